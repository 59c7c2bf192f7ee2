#!/usr/bin/env python3
"""Writes the benchmark datasets as pickle files made by CPython 3.11.

Every contender (shelf, CPython's _pickle under two builds, the store peers)
reads exactly these bytes, so the comparison is of decoders and encoders, not
of inputs. Everything is derived from fixed seeds: running the script twice
gives byte-identical files, so the files are generated into the build
directory (by the smoke test and by bench/compare/compare.py) and only this
script is committed.

Output, in OUT_DIR:
  <name>.p<N>.pickle   pickle.dumps(value, N) for N in 0, 2, 4, 5
  record.p5.pickle     one store record, as the store writes it
  manifest.tsv         name <TAB> items <TAB> description, one line per dataset
  big.p5.pickle        with --big only: ~100 MB of small records (dicts of
                       an int, a str and a 3-int list) for the memory target
  big_strs.p5.pickle   with --big only: ~100 MB of 100-character str

Usage: python3 gen_datasets.py OUT_DIR [--big]
"""

import datetime
import os
import random
import sys
import pickle

PROTOCOLS = (0, 2, 4, 5)

# --- pyperformance bm_pickle (pyperformance/data-files/benchmarks/bm_pickle) --
# The payloads as that benchmark defines them; DICT_GROUP uses its own
# mutation with its own seed (random.Random(5)), so the values match it.

BM_DICT = {
    'ads_flags': 0,
    'age': 18,
    'birthday': datetime.date(1980, 5, 7),
    'bulletin_count': 0,
    'comment_count': 0,
    'country': 'BR',
    'encrypted_id': 'G9urXXAJwjE',
    'favorite_count': 9,
    'first_name': '',
    'flags': 412317970704,
    'friend_count': 0,
    'gender': 'm',
    'gender_for_display': 'Male',
    'id': 302935349,
    'is_custom_profile_icon': 0,
    'last_name': '',
    'locale_preference': 'pt_BR',
    'member': 0,
    'tags': ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
    'profile_foo_id': 827119638,
    'secure_encrypted_id': 'Z_xxx2dYx3t4YAdnmfgyKw',
    'session_number': 2,
    'signup_id': '201-19225-223',
    'status': 'A',
    'theme': 1,
    'time_created': 1225237014,
    'time_updated': 1233134493,
    'unread_message_count': 0,
    'user_group': '0',
    'username': 'collinwinter',
    'play_count': 9,
    'view_count': 7,
    'zip': '',
}

BM_TUPLE = (
    [265867233, 265868503, 265252341, 265243910, 265879514,
     266219766, 266021701, 265843726, 265592821, 265246784,
     265853180, 45526486, 265463699, 265848143, 265863062,
     265392591, 265877490, 265823665, 265828884, 265753032], 60)


def bm_mutate_dict(orig, rng):
    # bm_pickle's mutate_dict: every value (all keys are str) becomes the
    # str of a random float scaled to sys.maxsize.
    new = dict(orig)
    for key in new:
        rand_val = rng.random() * sys.maxsize
        if isinstance(key, (int, bytes, str)):
            new[key] = type(key)(rand_val)
    return new


def bm_dict_group():
    rng = random.Random(5)
    return [bm_mutate_dict(BM_DICT, rng) for _ in range(3)]


def bm_list():
    return [[list(range(10)), list(range(10))] for _ in range(10)]


def bm_micro_dict():
    return dict((key, dict.fromkeys(range(10))) for key in range(100))


# --- our own datasets --------------------------------------------------------

def seed_example():
    # The seed's example; its 'string' is a Python 2 str, b'string' in Python 3.
    return {'a': [1, 2.0, 3, 4 + 6j], 'b': (b'string', 'Unicode string'), 'c': None}


def small_ints(rng, n=100_000):
    # A third each below 256, below 65536 and within int32: BININT1, BININT2
    # and BININT at binary protocols.
    out = []
    for i in range(n):
        band = i % 3
        if band == 0:
            out.append(rng.randrange(0, 256))
        elif band == 1:
            out.append(rng.randrange(256, 65536))
        else:
            out.append(rng.randrange(-2**31, 2**31))
    return out


def floats(rng, n=100_000):
    return [rng.gauss(0.0, 1e6) for _ in range(n)]


ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'


def strings(rng, n=10_000, length=100):
    return [''.join(rng.choices(ALNUM, k=length)) for _ in range(n)]


def str_to_int_lists(rng, n=10_000):
    keys = [''.join(rng.choices(ALNUM, k=12)) for _ in range(n)]
    return {k: [rng.randrange(1000), rng.randrange(100000), rng.randrange(2**31)]
            for k in keys}


def one_mib_bytes(rng):
    return rng.randbytes(1 << 20)


def shared_tree(rng, leaves=2000, inner=6000):
    # A DAG of [label, left, right] lists: each inner node picks its children
    # among the nodes made before it, so subtrees are shared many times
    # (memo references) and the root reaches them all.
    nodes = [[i, rng.random(), 'leaf%d' % i] for i in range(leaves)]
    for i in range(inner):
        left = nodes[rng.randrange(len(nodes))]
        right = nodes[rng.randrange(len(nodes))]
        nodes.append(['n%d' % i, left, right])
    return {'root': nodes[-1], 'all': nodes}


def self_ref_list(n=10_000):
    # Every other item is the list itself.
    lst = []
    for i in range(n):
        lst.append(lst if i % 2 else i)
    return lst


def store_record(i):
    return {'id': i, 'name': 'x' * 20, 'tags': [1, 2, 3]}


def datasets():
    rng = random.Random(20240611)
    # (name, value, items, description); items is what items/s counts.
    return [
        ('bm_dict', BM_DICT, 1, "bm_pickle DICT (a user profile, with a datetime.date)"),
        ('bm_tuple', BM_TUPLE, 1, "bm_pickle TUPLE (20 ints and an int)"),
        ('bm_dict_group', bm_dict_group(), 3, "bm_pickle DICT_GROUP (3 mutated DICTs, str values)"),
        ('bm_list', bm_list(), 1, "bm_pickle LIST (10 x 2 lists of range(10))"),
        ('bm_micro_dict', bm_micro_dict(), 1, "bm_pickle MICRO_DICT (100 x dict.fromkeys(range(10)))"),
        ('seed', seed_example(), 1, "the seed example {'a': [1, 2.0, 3, 4+6j], ...}"),
        ('ints_100k', small_ints(rng), 100_000, "100k small ints (int8/int16/int32 thirds)"),
        ('floats_100k', floats(rng), 100_000, "100k floats"),
        ('strs_10k', strings(rng), 10_000, "10k 100-character ASCII str"),
        ('dict_10k', str_to_int_lists(rng), 10_000, "dict of 10k str -> [3 ints]"),
        ('bytes_1mib', one_mib_bytes(rng), 1, "one 1 MiB bytes object"),
        ('tree_shared', shared_tree(rng), 8000, "DAG of 8000 [label, left, right] lists, shared subtrees"),
        ('self_ref', self_ref_list(), 10_000, "a 10k-item list, every other item the list itself"),
    ]


def big_value(target=100 * 1000 * 1000):
    # Records with distinct strings (no memo sharing), sized so the pickle is
    # about `target` bytes: roughly 51 bytes per record at protocol 5.
    n = target // 51
    return [{'id': i, 'name': 'name-%012d' % i, 'tags': [i & 0xff, i, -i]} for i in range(n)]


def big_strs(target=100 * 1000 * 1000):
    # Distinct 100-character strings: 103 bytes each at protocol 5
    # (SHORT_BINUNICODE, length, payload, MEMOIZE).
    rng = random.Random(7)
    base = ''.join(rng.choices(ALNUM, k=4096))
    n = target // 103
    return ['%010d' % i + base[i % 4000:i % 4000 + 90] for i in range(n)]


def write(path, data):
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(data)
    os.replace(tmp, path)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    lines = []
    for name, value, items, desc in datasets():
        for proto in PROTOCOLS:
            write(os.path.join(out, '%s.p%d.pickle' % (name, proto)),
                  pickle.dumps(value, proto))
        lines.append('%s\t%d\t%s\n' % (name, items, desc))
    write(os.path.join(out, 'record.p5.pickle'), pickle.dumps(store_record(7), 5))
    write(os.path.join(out, 'manifest.tsv'), ''.join(lines).encode())
    if '--big' in argv[2:]:
        write(os.path.join(out, 'big.p5.pickle'), pickle.dumps(big_value(), 5))
        write(os.path.join(out, 'big_strs.p5.pickle'), pickle.dumps(big_strs(), 5))


if __name__ == '__main__':
    main(sys.argv)
