# The Python classes that tests/pickle/types_test.cc registers C++ types
# for. Written to run on Python 2.7 and 3.x alike: under Python 2 the
# classes not deriving from object are old-style (pickled with INST/OBJ).
import sys

if sys.version_info[0] >= 3:
    _Base = object
else:
    class _Base:  # old-style on Python 2
        pass


class Point(_Base):
    """A plain class: __init__ and fields; pickled through its __dict__."""
    def __init__(self, x, y, label=u""):
        self.x = x
        self.y = y
        self.label = label


class Money(object):
    """__getnewargs__: cents and currency go to __new__ (and __dict__)."""
    def __new__(cls, cents=0, currency=u"EUR"):
        self = object.__new__(cls)
        self.cents = cents
        self.currency = currency
        return self

    def __getnewargs__(self):
        return (self.cents, self.currency)


class Interval(object):
    """__getnewargs_ex__: lo positionally, hi as a keyword (NEWOBJ_EX)."""
    def __new__(cls, lo=0, hi=0):
        self = object.__new__(cls)
        self.lo = lo
        self.hi = hi
        return self

    def __getnewargs_ex__(self):
        return ((self.lo,), {u"hi": self.hi})


class Blank(object):
    """__getstate__ returning a false value: no BUILD below protocol 2."""
    def __getstate__(self):
        return {}

    def __setstate__(self, state):
        self.restored = True


class Slotted(object):
    """__slots__ and no __dict__: the state is (None, {slot: value})."""
    __slots__ = ('a', 'b')

    def __init__(self, a, b):
        self.a = a
        self.b = b


class Version(object):
    """__reduce__: rebuilt by calling the class with (major, minor)."""
    def __init__(self, major, minor):
        self.major = major
        self.minor = minor

    def __reduce__(self):
        return (Version, (self.major, self.minor))


class Polyline(list):
    """A list subclass: its items are pickled as list items."""
    def __init__(self, points=(), closed=False):
        list.__init__(self, points)
        self.closed = closed


class Palette(dict):
    """A dict subclass: its entries are pickled as dict items."""
    def __init__(self, entries=(), name=u""):
        dict.__init__(self, entries)
        self.name = name


class OldVersion(_Base):
    """__getinitargs__: under Python 2 a classic class, written INST
    (protocol 0) or OBJ, whose __init__ runs again on load; Python 3
    ignores __getinitargs__ and pickles the __dict__."""
    def __init__(self, major, minor=0):
        self.major = major
        self.minor = minor

    def __getinitargs__(self):
        return (self.major,)


class TextReader(_Base):
    """The seed's closing example: print and number lines in a text file."""
    def __init__(self, file):
        self.file = file
        self.fh = open(file)
        self.lineno = 0

    def readline(self):
        self.lineno = self.lineno + 1
        line = self.fh.readline()
        if not line:
            return None
        if line.endswith("\n"):
            line = line[:-1]
        return "%d: %s" % (self.lineno, line)

    def __getstate__(self):
        odict = self.__dict__.copy()  # copy the dict since we change it
        del odict['fh']               # remove filehandle entry
        return odict

    def __setstate__(self, dict):
        fh = open(dict['file'])       # reopen file
        count = dict['lineno']        # read from file...
        while count:                  # until line count is restored
            fh.readline()
            count = count - 1
        self.__dict__.update(dict)    # update attributes
        self.fh = fh                  # save the file object
