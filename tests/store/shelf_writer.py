# Writes a shelf from Python (lmdb module + pickle) that shelf (C++) reads:
# the meta database with the format version, and records whose references
# to other records are persistent ids holding the target's key.
import pickle
import sys

import lmdb


class Ref:
    def __init__(self, key):
        self.key = key


class RecordPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.key if isinstance(obj, Ref) else None


def dumps(value, protocol):
    import io
    out = io.BytesIO()
    RecordPickler(out, protocol=protocol).dump(value)
    return out.getvalue()


def main(path):
    env = lmdb.open(path, subdir=False, max_dbs=4, map_size=1 << 24, mode=0o600)
    meta = env.open_db(b"meta")
    records = env.open_db(b"records")
    with env.begin(write=True) as txn:
        txn.put(b"format", b"1", db=meta)
        txn.put(b"protocol", b"4", db=meta)
        txn.put(b"created_by", b"python shelf_writer.py", db=meta)
        txn.put(b"config", dumps({"name": "demo", "sizes": [1, 2, 3]}, 4), db=records)
        txn.put(b"user:1", dumps({"name": "Ada", "config": Ref("config")}, 4), db=records)
        txn.put("ключ".encode("utf-8"), dumps(("tuple", 1.5, None), 2), db=records)


if __name__ == "__main__":
    main(sys.argv[1])
