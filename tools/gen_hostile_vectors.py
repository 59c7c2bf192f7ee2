#!/usr/bin/env python3
"""Regenerates tests/pickle/hostile_vectors.inc: the malicious-pickle styles
that security scanners look for, as CPython and Python 2.7 write them, at
every protocol, for tests/pickle/hostile_test.cc.

Usage: tools/gen_hostile_vectors.py > tests/pickle/hostile_vectors.inc

Nothing here ever loads a hostile pickle with a real unpickler. The pickles
are made by pickling objects whose __reduce__ names the dangerous callable
(os.system and friends are briefly replaced, in this process only, by inert
stand-ins carrying the same module and name, so that pickle writes e.g.
"os system" and not "posix system"), by Python 2.7 for the INST/OBJ forms of
old-style classes, and by a small assembler for the STACK_GLOBAL tricks
pickle never writes itself.

What the test needs is found by replaying each pickle through pickle.py's
_Unpickler with find_class overridden to return recording stubs: every
global the pickle names (after Python 2 name mapping, as CPython does it)
in the order the loader asks for them, and the offset and opcode of the
first global (refuse_all) and of the first global that is not a data
constructor (data_only). Rows:

HOSTILE_VECTOR(name, pickle hex, "module.name module.name ...",
               refuse_all offset, refuse_all opcode,
               data_only offset, data_only opcode)
"""
import _compat_pickle
import copyreg
import functools
import io
import operator
import os
import pickle
import pickletools
import struct
import subprocess
import sys

# The engine's data constructors (pickle/internal/data_constructors.cc).
DATA_CTORS = {
    ('builtins', n) for n in ('bool', 'bytearray', 'bytes', 'complex', 'dict', 'float', 'frozenset', 'int',
                              'list', 'set', 'str', 'tuple')
} | {('_codecs', 'encode'), ('collections', 'OrderedDict'), ('copyreg', '_reconstructor')}

GLOBAL_OPS = {'GLOBAL', 'STACK_GLOBAL', 'INST'}


def pyenv_python(version):
    """pyenv's interpreter binary itself: the `python` shim under a running
    python3 may resolve to that python3, whatever PYENV_VERSION says."""
    root = os.environ.get('PYENV_ROOT', os.path.expanduser('~/.pyenv'))
    return os.path.join(root, 'versions', version, 'bin', 'python')


# --- recording replay ----------------------------------------------------------

class Recorder:
    """What every global loads as during the replay: a class whose calls,
    attribute setting and item adding do nothing but exist."""

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return Recorder()

    def __setstate__(self, state):
        pass

    def append(self, item):
        pass

    def extend(self, items):
        pass

    def __setitem__(self, key, value):
        pass


class RecordingUnpickler(pickle._Unpickler):
    # BUILD only sets state: nothing to record, and the object may be a stub
    # class (a pickle may BUILD on a global).
    dispatch = dict(pickle._Unpickler.dispatch)
    dispatch[pickle.BUILD[0]] = lambda self: self.stack.pop()

    def __init__(self, data):
        super().__init__(io.BytesIO(data))
        self.seen = []

    def find_class(self, module, name):
        if self.proto < 3 and self.fix_imports:
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        self.seen.append((module, name))
        return type(name.replace('.', '_'), (Recorder,), {})

    def persistent_load(self, pid):
        return Recorder()


def describe(data):
    u = RecordingUnpickler(data)
    u.load()
    starts = [(op.name, pos) for op, _, pos in pickletools.genops(data) if op.name in GLOBAL_OPS]
    assert len(starts) == len(u.seen), (starts, u.seen)
    first_any = starts[0]
    first_bad = next((s for s, g in zip(starts, u.seen) if g not in DATA_CTORS), None)
    assert first_bad is not None
    return u.seen, first_any, first_bad


# --- stand-ins -----------------------------------------------------------------

def stand_in(module, qualname, obj=None):
    """A function named module.qualname, installed there for pickling."""
    if obj is None:
        def obj(*args):
            raise AssertionError('never called')
    obj.__module__ = module
    obj.__qualname__ = qualname
    obj.__name__ = qualname.rsplit('.', 1)[-1]
    setattr(sys.modules[module], qualname, obj)
    return obj


class Reduce:
    def __init__(self, *reduce_value):
        self.value = reduce_value

    def __reduce__(self):
        return self.value


class CallableReduce(Reduce):
    def __call__(self, *args):
        raise AssertionError('never called')


# --- the assembler for what pickle never writes ----------------------------------

def u8(s):
    b = s.encode('utf-8')
    return b'\x8c' + bytes([len(b)]) + b


def asm(*parts):
    return b''.join(p if isinstance(p, bytes) else p.encode('latin-1') for p in parts)


def py2_vectors():
    """INST/OBJ forms: old-style classes named os.system, by Python 2.7."""
    script = r'''
import os, pickle, sys, binascii
class system:
    def __getinitargs__(self):
        return ('echo pwned',)
system.__module__ = 'os'
os.system = system
class Popen:
    def __init__(self, *args):
        self.args = args
    def __getinitargs__(self):
        return (['sh', '-c', 'echo pwned'],)
Popen.__module__ = 'subprocess'
import subprocess
subprocess.Popen = Popen
for name, obj in (('py2_inst_os_system', system()), ('py2_inst_subprocess_popen', Popen())):
    for proto in range(3):
        sys.stdout.write('%s_p%d %s\n' % (name, proto, binascii.hexlify(pickle.dumps(obj, proto))))
'''
    try:
        out = subprocess.run([pyenv_python('2.7.18'), '-c', script], capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit('gen_hostile_vectors: Python 2.7.18 is needed for the INST/OBJ vectors: %s' % e)
    rows = []
    for line in out.decode().split('\n'):
        if line:
            name, hexdata = line.split()
            rows.append((name, bytes.fromhex(hexdata)))
    return rows


def py3_vectors():
    real = {}
    for module, name in (('os', 'system'), ('subprocess', 'Popen'), ('subprocess', 'check_output'),
                         ('pickle', 'loads')):
        real[(module, name)] = getattr(sys.modules[module], name)
    try:
        os_system = stand_in('os', 'system')
        popen = stand_in('subprocess', 'Popen')
        check_output = stand_in('subprocess', 'check_output')
        pickle_loads = stand_in('pickle', 'loads')

        class FakePopen:
            def __getnewargs__(self):
                return (['sh', '-c', 'echo pwned'],)

        class FakePopenEx:
            def __getnewargs_ex__(self):
                return ((['sh', '-c', 'echo pwned'],), {'shell': True})

        FakePopen.__module__ = FakePopenEx.__module__ = 'subprocess'
        FakePopen.__qualname__ = FakePopen.__name__ = 'Popen'
        import_os = Reduce(__import__, ('os',))
        objects = {
            'os_system': Reduce(os_system, ('echo pwned',)),
            'posix_system': Reduce(real[('os', 'system')], ('echo pwned',)),
            'subprocess_popen': Reduce(popen, (['sh', '-c', 'echo pwned'],)),
            'subprocess_check_output': Reduce(check_output, (['id'],)),
            'builtins_eval': Reduce(eval, ("__import__('os').system('echo pwned')",)),
            'builtins_exec': Reduce(exec, ("import os; os.system('echo pwned')",)),
            'exec_of_compile': Reduce(exec, (Reduce(compile, ("import os", "<x>", "exec")),)),
            'getattr_import_chain': Reduce(CallableReduce(getattr, (import_os, 'system')), ('echo pwned',)),
            'getattr_builtins_eval': Reduce(
                CallableReduce(getattr, (Reduce(__import__, ('builtins',)), 'eval')), ('1+1',)),
            'nested_pickle_loads': Reduce(pickle_loads, (pickle.dumps(Reduce(os_system, ('id',)), 0),)),
            'functools_partial': Reduce(CallableReduce(functools.partial, (os_system, 'echo pwned')), ()),
            'operator_methodcaller': Reduce(CallableReduce(operator.methodcaller, ('system', 'echo pwned')),
                                            (import_os,)),
            'reduce_with_state': Reduce(os_system, ('echo pwned',), {'hook': eval}),
            'reduce_in_data': [1, {'k': (Reduce(os_system, ('echo pwned',)),)}, 'tail'],
            'newobj_popen': None,
            'newobj_ex_popen': None,
        }
        rows = []
        for name, obj in objects.items():
            for proto in range(6):
                if name == 'newobj_popen':
                    FakePopen.__qualname__ = 'Popen'
                    setattr(subprocess, 'Popen', FakePopen)
                    data = pickle.dumps(FakePopen(), proto)
                    setattr(subprocess, 'Popen', popen)
                elif name == 'newobj_ex_popen':
                    FakePopenEx.__qualname__ = FakePopenEx.__name__ = 'Popen'
                    setattr(subprocess, 'Popen', FakePopenEx)
                    try:
                        data = pickle.dumps(FakePopenEx(), proto)
                    except Exception:
                        setattr(subprocess, 'Popen', popen)
                        continue
                    setattr(subprocess, 'Popen', popen)
                else:
                    data = pickle.dumps(obj, proto)
                rows.append(('%s_p%d' % (name, proto), data))
        return rows
    finally:
        for (module, name), obj in real.items():
            setattr(sys.modules[module], name, obj)


def assembled_vectors():
    pwn = asm(u8('echo pwned'), '\x85')
    return [
        # STACK_GLOBAL whose strings come from the memo.
        ('stack_global_from_memo', asm('\x80\x04', u8('os'), '\x94', u8('system'), '\x94', '00',
                                       'h\x00h\x01\x93', pwn, 'R.')),
        # A dotted qualname reaching os.system through another module.
        ('stack_global_dotted', asm('\x80\x04', u8('posixpath'), u8('os.system'), '\x93', pwn, 'R.')),
        # A Python 2 module name at protocol 4: not mapped, as CPython.
        ('stack_global_py2_name', asm('\x80\x04', u8('__builtin__'), u8('eval'), '\x93', u8('1'), '\x85R.')),
        # GLOBAL with a Python 2 name below protocol 3: mapped to builtins.
        ('global_py2_eval', asm('\x80\x02c__builtin__\neval\n', u8('1'), '\x85R.')),
        # The protocol 0 classic, by hand: os.system via GLOBAL, REDUCE.
        ('classic_os_system', asm("cos\nsystem\n(S'echo pwned'\ntR.")),
        # The same callable fetched twice through the memo, called twice.
        ('memo_reused_callable', asm("cos\nsystem\np0\n(S'a'\ntRg0\n(S'b'\ntR\x86.")),
        # INST and OBJ by hand.
        ('inst_os_system', asm("(S'echo pwned'\nios\nsystem\n.")),
        ('obj_os_system', asm("(cos\nsystem\nS'echo pwned'\no.")),
        # A data constructor first, then the dangerous call: data_only fails later.
        ('data_then_exec', asm("c__builtin__\nset\n((lp0\nI1\natRcbuiltins\nexec\n(S'1'\ntR\x86.")),
        # NEWOBJ_EX by hand with a dangerous class.
        ('newobj_ex_by_hand', asm('\x80\x04', u8('subprocess'), u8('Popen'), '\x93', u8('id'), '\x85',
                                  '}', u8('shell'), '\x88s\x92.')),
        # REDUCE nested three deep: getattr(__import__('os'), 'system')('id').
        ('nested_reduce_by_hand', asm('\x80\x04', u8('builtins'), u8('getattr'), '\x93',
                                      u8('builtins'), u8('__import__'), '\x93', u8('os'), '\x85R',
                                      u8('system'), '\x86R', u8('id'), '\x85R.')),
    ]


def c_hex(data):
    return '"%s"' % data.hex()


def main():
    rows = py3_vectors() + py2_vectors() + assembled_vectors()
    print('// Generated by tools/gen_hostile_vectors.py with CPython %d.%d.%d and 2.7.18;'
          % sys.version_info[:3])
    print('// do not edit, regenerate. HOSTILE_VECTOR(name, pickle hex, globals in load order,')
    print('//   refuse_all offset, opcode, data_only offset, opcode)')
    for name, data in rows:
        pickletools.dis(data, out=io.StringIO())  # well-formed for pickletools too
        seen, (any_op, any_pos), (bad_op, bad_pos) = describe(data)
        names = ' '.join('%s.%s' % g for g in seen)
        print('HOSTILE_VECTOR("%s",\n    %s,\n    "%s", %d, "%s", %d, "%s")'
              % (name, c_hex(data), names, any_pos, any_op, bad_pos, bad_op))


if __name__ == '__main__':
    main()
