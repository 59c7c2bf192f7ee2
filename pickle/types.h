// pickle/types.h: your own C++ types in pickles — the copy_reg of shelf.
//
// A TypeRegistry binds a C++ type to a Python class (module + qualified
// name) and says how it is pickled, in the vocabulary of the seed's "pickle
// protocol" (section 11.1.5): fields (the instance __dict__), slots,
// __getnewargs__, __getinitargs__, __getstate__/__setstate__, __reduce__,
// list and dict items. It converts a T to the inert Instance node that
// CPython's pickle would build for the equivalent Python object, so
// dumps(registry.to_value(g, t, protocol), protocol) is byte-identical to
// CPython 3.11's pickle.dumps(obj, protocol); and it converts an Instance
// node back into a T, whatever form the pickle used (Python 2 INST/OBJ,
// copy_reg._reconstructor, NEWOBJ, NEWOBJ_EX, REDUCE).
//
// The Unpickler never builds a T: loading gives inert nodes, and from_value
// builds a T only through the functions registered for it (the seed's "safe
// constructors"). docs/types.md tells the story. For classes named by a
// copyreg extension code, give an ExtensionRegistry (pickle/extensions.h)
// to PicklerOptions::extensions and UnpicklerOptions::extensions.
//
//   TypeRegistry types;
//   types.add<Point>("geometry", "Point").field("x", &Point::x).field("y", &Point::y);
//   std::string bytes = dumps(types.to_value(g, Point{1, 2}, 2), 2);
//   Point p = types.from_value<Point>(loads(bytes));
//
// Threads: register everything first; afterwards a registry is read-only
// and may be shared between threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeindex>
#include <utility>
#include <vector>

#include "pickle/errors.h"
#include "pickle/pickler.h"
#include "pickle/value.h"

namespace shelf::pickle {

// A value that cannot become the C++ type asked for (another class, a field
// of the wrong kind, a form the registration cannot build), or a type that
// was never registered. The message names what was expected and found.
class TypeError : public PickleError {
 public:
  using PickleError::PickleError;
};

class TypeRegistry;

// What a __reduce__ / __reduce_ex__ returns: the object is callable(*args),
// then gets list items appended, dict items set and `state` given to BUILD.
// A state of nullopt or None writes no BUILD, as pickle.py's save_reduce.
// A callable copyreg.__newobj__ (args: cls, *args) or copyreg.__newobj_ex__
// (args: cls, args, kwargs) is written as NEWOBJ / NEWOBJ_EX from protocol 2.
struct Reduction {
  Value callable;
  Value args;  // a Tuple
  std::optional<Value> state = std::nullopt;
  std::vector<Value> list_items = {};
  std::vector<std::pair<Value, Value>> dict_items = {};
};

// What hooks work in: the graph being built or read, the protocol being
// pickled for (-1 while loading), and the registry, for nested values.
class Context {
 public:
  Context(const TypeRegistry& registry, Graph graph, int protocol)
      : registry_(registry), graph_(std::move(graph)), protocol_(protocol) {}
  Graph& graph() { return graph_; }
  int protocol() const { return protocol_; }
  const TypeRegistry& registry() const { return registry_; }

  // Converts with Convert<U> (below): scalars, strings, containers and
  // registered types.
  template <class U>
  Value to_value(const U& v);
  template <class U>
  U from_value(const Value& v);

  // An attribute or keyword name as a str: one per name per Context, as
  // CPython interns identifiers, so names repeated across the objects of
  // one pickle are memoized as CPython memoizes them. Use it for dict keys
  // that are attribute names (a getstate dict, getnewargs_ex's kwargs).
  Value name(std::string_view text);
  // The str for the std::string at `where`: the same Value each time that
  // string is converted within this Context, so one C++ string met twice
  // (a field that is also a __getnewargs__ value, given with std::tie)
  // pickles once and is memoized, as one Python str is.
  Value str_at(const void* where, std::string_view text);

 private:
  const TypeRegistry& registry_;
  Graph graph_;
  int protocol_;
  std::map<std::string, Value, std::less<>> names_;
  std::map<const void*, Value> strings_;
};

// How one C++ type maps to a value: bool, integers, floating point,
// std::string (str), std::vector (list), std::map (dict), std::optional
// (None or the value), std::pair / std::tuple (tuple), Value (as is), and
// any type registered in the context's registry (an instance). from()
// throws TypeError naming the kind it expected and found.
template <class T, class Enable = void>
struct Convert {
  static Value to(Context& cx, const T& v);
  static T from(Context& cx, const Value& v);
};

namespace internal {

// The pieces of an Instance node a registration needs to build its type,
// whichever opcodes made it.
struct Unreduced {
  enum class Form : uint8_t {
    kNew,          // cls.__new__(cls, *args[, **kwargs]): NEWOBJ(_EX), copyreg.__newobj__(_ex__)
    kInit,         // cls(*args) of an old-style class: INST, OBJ
    kReconstruct,  // copyreg._reconstructor(cls, base, base_state)
    kCall,         // callable(*args): REDUCE of anything else
  };
  Form form = Form::kNew;
  std::string module, name;  // the class; for kCall, the callable
  Value args;                // a Tuple
  Value kwargs;              // kNew: a Dict or None
  std::optional<Value> base_state;  // kReconstruct: list(obj) / dict(obj) / None
  std::optional<Value> state = std::nullopt;
  std::vector<Value> list_items = {};
  std::vector<std::pair<Value, Value>> dict_items = {};
};

// Throws TypeError ("expected <expected>, found ...") when `v` is no
// instance node of a form above.
Unreduced unreduce(const Value& v, std::string_view expected);

// How the default object.__reduce_ex__ sees an object of a registered class.
struct ObjectParts {
  enum class Base : uint8_t { kObject, kList, kDict };
  Base base = Base::kObject;
  bool old_style = false;             // a Python 2 classic class: INST / OBJ
  bool has_slots = false;             // __slots__ without a custom getstate
  bool custom_state = false;          // a registered getstate
  std::optional<Value> initargs;      // old-style __getinitargs__
  std::optional<Value> newargs;       // __getnewargs__ (a Tuple)
  std::optional<Value> newkwargs;     // __getnewargs_ex__'s kwargs (a Dict)
  Value state;                        // __getstate__()'s result (None: nothing)
  std::vector<Value> list_items = {};
  std::vector<std::pair<Value, Value>> dict_items = {};
};

// The Instance node CPython would pickle for such an object at `protocol`
// (copyreg._reduce_ex below 2, copyreg.__reduce_ex__'s NEWOBJ form from 2).
Value reduce_object(Context& cx, std::string_view module, std::string_view qualname,
                    ObjectParts parts);
// The Instance node save_reduce writes for a Reduction.
Value reduce_value(Context& cx, const Reduction& r);

// Python truth of a value (empty containers, 0, None and False are false).
bool truthy(const Value& v);
// Splits a BUILD state into its (dict, slots) parts (either may be None).
std::pair<Value, Value> split_state(const Value& state);
// "int", "str", "shelfdemo.Point" (for an instance), ...
std::string describe(const Value& v);

template <class F>
struct FunctionTraits : FunctionTraits<decltype(&F::operator())> {};
template <class R, class... A>
struct FunctionTraits<R (*)(A...)> {
  using Args = std::tuple<std::decay_t<A>...>;
};
template <class C, class R, class... A>
struct FunctionTraits<R (C::*)(A...) const> {
  using Args = std::tuple<std::decay_t<A>...>;
};
template <class C, class R, class... A>
struct FunctionTraits<R (C::*)(A...)> {
  using Args = std::tuple<std::decay_t<A>...>;
};

class BindingBase {
 public:
  BindingBase(std::string module, std::string qualname)
      : module_(std::move(module)), qualname_(std::move(qualname)) {}
  virtual ~BindingBase() = default;
  const std::string& module() const { return module_; }
  const std::string& qualname() const { return qualname_; }
  std::string class_name() const { return module_ + "." + qualname_; }
  // True when calling module.name builds this type (a registered constructor).
  virtual bool has_constructor(std::string_view module, std::string_view name) const = 0;

 private:
  std::string module_, qualname_;
};

}  // namespace internal

// The registration of one C++ type. Each setter returns *this, so a
// registration reads as one statement. T needs a default constructor
// unless every form it loads from has a constructor registered (make()).
template <class T>
class TypeBinding : public internal::BindingBase {
 public:
  using BindingBase::BindingBase;

  // An entry of the instance __dict__: a data member, or a getter and a
  // setter. The default state is the dict of all fields, in order; a
  // loaded state dict sets the fields it names and ignores other keys.
  template <class F>
  TypeBinding& field(std::string name, F T::*member);
  template <class Get, class Set>
  TypeBinding& field(std::string name, Get get, Set set);
  // An entry of __slots__: pickled in the slots half of a (dict, slots)
  // state; like CPython, only from protocol 2 unless getstate is given.
  template <class F>
  TypeBinding& slot(std::string name, F T::*member);

  // The Python class subclasses list (or dict): the container's elements
  // (or entries) are its list items (dict items). A std::map or a vector of
  // pairs holds dict items.
  template <class C>
  TypeBinding& list_items(C T::*member);
  template <class M>
  TypeBinding& dict_items(M T::*member);

  // __getnewargs__ and the __new__ they feed, from protocol 2: `get`
  // returns a std::tuple, `make` takes the same values as parameters.
  template <class Get, class Make>
  TypeBinding& getnewargs(Get get, Make make);
  // __getnewargs_ex__: `get` returns (args Tuple, kwargs Dict).
  TypeBinding& getnewargs_ex(std::function<std::pair<Value, Value>(Context&, const T&)> get,
                             std::function<T(Context&, const Value& args, const Value& kwargs)> make);
  // __getinitargs__ of a Python 2 classic class: the type is written as
  // Python 2 writes old-style instances (INST at protocol 0, OBJ above,
  // state always BUILT); `make` is its __init__, as for init().
  template <class Get, class Make>
  TypeBinding& getinitargs(Get get, Make make);
  // Written as a Python 2 classic class without __getinitargs__.
  TypeBinding& old_style() {
    old_style_ = true;
    return *this;
  }
  // What calling the class does (its __init__): used when a pickle calls
  // the class, as INST and OBJ do and REDUCE does for a __reduce__ that
  // returns (cls, args). `make` takes the args as typed parameters.
  template <class Make>
  TypeBinding& init(Make make);
  // A callable other than the class that builds T (copyreg's "safe
  // constructor"), e.g. a factory function a __reduce__ names.
  template <class Make>
  TypeBinding& constructor(std::string module, std::string name, Make make);
  // How to make the blank object __new__ (without args) gives. Default T{}.
  TypeBinding& make(std::function<T()> blank) {
    blank_ = std::move(blank);
    return *this;
  }

  // __getstate__ / __setstate__. Without a setstate, the state must be a
  // dict (or a (dict, slots) tuple) and is merged into the fields. A false
  // getstate result means no BUILD below protocol 2 (copyreg._reduce_ex)
  // and None means none at all.
  TypeBinding& getstate(std::function<Value(Context&, const T&)> get) {
    getstate_ = std::move(get);
    return *this;
  }
  TypeBinding& setstate(std::function<void(Context&, T&, const Value& state)> set) {
    setstate_ = std::move(set);
    return *this;
  }

  // __reduce_ex__: the whole reduction, given cx.protocol(). Replaces every
  // other writing hook; loading goes through init() / constructor().
  TypeBinding& reduce(std::function<Reduction(Context&, const T&)> reduce) {
    reduce_ = std::move(reduce);
    return *this;
  }

  bool has_constructor(std::string_view module, std::string_view name) const override;

 private:
  friend class TypeRegistry;
  using MakeFn = std::function<T(Context&, const Value& args)>;
  struct Field {
    std::string name;
    bool slot;
    std::function<Value(Context&, const T&)> get;
    std::function<void(Context&, T&, const Value&)> set;
  };
  struct Ctor {
    std::string module, name;
    MakeFn make;
  };

  template <class M>
  MakeFn typed_make(M make) const;
  Value to_value(Context& cx, const T& obj) const;
  T from_value(Context& cx, const Value& v) const;
  void apply_state(Context& cx, T& obj, const Value& state) const;

  std::vector<Field> fields_;
  internal::ObjectParts::Base base_ = internal::ObjectParts::Base::kObject;
  std::function<std::vector<Value>(Context&, const T&)> list_get_;
  std::function<void(Context&, T&, const Value&)> list_add_;
  std::function<std::vector<std::pair<Value, Value>>(Context&, const T&)> dict_get_;
  std::function<void(Context&, T&, const Value&, const Value&)> dict_set_;
  std::function<Value(Context&, const T&)> newargs_get_;
  MakeFn newargs_make_;
  std::function<std::pair<Value, Value>(Context&, const T&)> newargs_ex_get_;
  std::function<T(Context&, const Value&, const Value&)> newargs_ex_make_;
  std::function<Value(Context&, const T&)> initargs_get_;
  bool old_style_ = false;
  MakeFn init_;
  std::vector<Ctor> ctors_;
  std::function<T()> blank_;
  std::function<Value(Context&, const T&)> getstate_;
  std::function<void(Context&, T&, const Value&)> setstate_;
  std::function<Reduction(Context&, const T&)> reduce_;

};

class TypeRegistry {
 public:
  TypeRegistry() = default;
  TypeRegistry(TypeRegistry&&) = default;
  TypeRegistry& operator=(TypeRegistry&&) = default;

  // Binds T to the Python class module.qualname. Throws std::invalid_argument
  // when T, or the class, is already bound.
  template <class T>
  TypeBinding<T>& add(std::string module, std::string qualname);

  // The value CPython's pickle would see for `obj` at `protocol`: an
  // Instance node in `graph` (fields converted with Convert). Throws
  // TypeError when T is not registered, PicklingError where CPython would
  // refuse (__slots__ below protocol 2 without getstate).
  template <class T>
  Value to_value(Graph& graph, const T& obj, int protocol = kDefaultProtocol) const;
  // Pickle bytes of `obj`: dumps(to_value(...)) with `options`.
  template <class T>
  std::string dumps(const T& obj, const PicklerOptions& options = {}) const;

  // Builds a T from a loaded value. Throws TypeError when the value is not
  // an instance of T's class ("expected geometry.Point, found
  // geometry.Circle"), a field has the wrong kind, or the pickle uses a
  // constructor not registered for T.
  template <class T>
  T from_value(const Value& value) const;

  // The same, inside a hook's context (for nested registered values).
  template <class T>
  Value to_value(Context& cx, const T& obj) const;
  template <class T>
  T from_value(Context& cx, const Value& value) const;

  // True when `value` is an instance of T's registered class.
  template <class T>
  bool holds(const Value& value) const;
  // "module.qualname" T is bound to; throws TypeError if unregistered.
  template <class T>
  std::string class_name() const;
  // The registration bound to a class, or nullptr.
  const internal::BindingBase* find(std::string_view module, std::string_view qualname) const;
  // "module.qualname" of the registered class whose constructor `callable`
  // (a Global) is, or nullopt.
  std::optional<std::string> class_of_constructor(std::string_view module, std::string_view name) const;

 private:
  template <class T>
  const TypeBinding<T>& binding() const;

  std::map<std::type_index, std::unique_ptr<internal::BindingBase>> by_type_;
  std::map<std::pair<std::string, std::string>, internal::BindingBase*, std::less<>> by_class_;
};

}  // namespace shelf::pickle

#include "pickle/internal/types_impl.h"
