// pickle/internal/types_impl.h: the templates of pickle/types.h. Include
// pickle/types.h, not this file.
#pragma once

#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <typeinfo>
#include <utility>
#include <vector>

#include "pickle/types.h"

namespace shelf::pickle {

template <class U>
Value Context::to_value(const U& v) {
  return Convert<U>::to(*this, v);
}

template <class U>
U Context::from_value(const Value& v) {
  return Convert<U>::from(*this, v);
}

namespace internal {
[[noreturn]] void throw_expected(std::string_view expected, const Value& found);
}  // namespace internal

// --- Convert ---------------------------------------------------------------

// Registered types: an instance of their class.
template <class T, class Enable>
Value Convert<T, Enable>::to(Context& cx, const T& v) {
  return cx.registry().to_value(cx, v);
}
template <class T, class Enable>
T Convert<T, Enable>::from(Context& cx, const Value& v) {
  return cx.registry().template from_value<T>(cx, v);
}

template <>
struct Convert<Value> {
  static Value to(Context& cx, const Value& v) { return cx.graph().adopt(v); }
  static Value from(Context&, const Value& v) { return v; }
};

template <>
struct Convert<bool> {
  static Value to(Context&, bool b) { return Value(b); }
  static bool from(Context&, const Value& v) {
    if (v.kind() != Kind::Bool) internal::throw_expected("bool", v);
    return v.as_bool();
  }
};

// Python's bool is an int, so a bool loads into an integer field too.
template <class T>
struct Convert<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>> {
  static Value to(Context& cx, T v) { return Item(v).in(cx.graph()); }
  static T from(Context&, const Value& v) {
    if (v.kind() != Kind::Int && v.kind() != Kind::Bool) internal::throw_expected("int", v);
    if (!v.fits_int64() || !std::in_range<T>(v.as_int())) {
      throw TypeError("int " + v.int_decimal() + " does not fit the field's C++ type");
    }
    return static_cast<T>(v.as_int());
  }
};

template <class T>
struct Convert<T, std::enable_if_t<std::is_floating_point_v<T>>> {
  static Value to(Context&, T v) { return Value(static_cast<double>(v)); }
  static T from(Context&, const Value& v) {
    if (v.kind() == Kind::Float) return static_cast<T>(v.as_float());
    if (v.kind() == Kind::Int && v.fits_int64()) return static_cast<T>(v.as_int());
    internal::throw_expected("float", v);
  }
};

// A Python 2 str (bytes, when loaded with encoding bytes) loads as its bytes.
template <>
struct Convert<std::string> {
  static Value to(Context& cx, const std::string& s) { return cx.str_at(&s, s); }
  static std::string from(Context&, const Value& v) {
    if (v.kind() == Kind::Str) return std::string(v.as_str());
    if (v.kind() == Kind::Bytes) return std::string(v.as_bytes());
    internal::throw_expected("str", v);
  }
};

template <class U>
struct Convert<std::optional<U>> {
  static Value to(Context& cx, const std::optional<U>& v) {
    return v ? Convert<U>::to(cx, *v) : Value();
  }
  static std::optional<U> from(Context& cx, const Value& v) {
    if (v.is_none()) return std::nullopt;
    return Convert<U>::from(cx, v);
  }
};

template <class U, class A>
struct Convert<std::vector<U, A>> {
  static Value to(Context& cx, const std::vector<U, A>& v) {
    Value list = cx.graph().list();
    for (const U& e : v) list.append(Convert<U>::to(cx, e));
    return list;
  }
  static std::vector<U, A> from(Context& cx, const Value& v) {
    if (v.kind() != Kind::List && v.kind() != Kind::Tuple) internal::throw_expected("list", v);
    std::vector<U, A> out;
    out.reserve(v.size());
    for (Value e : v.elements()) out.push_back(Convert<U>::from(cx, e));
    return out;
  }
};

template <class K, class U, class C, class A>
struct Convert<std::map<K, U, C, A>> {
  static Value to(Context& cx, const std::map<K, U, C, A>& m) {
    Value dict = cx.graph().dict();
    for (const auto& [k, e] : m) dict.set_item(Convert<K>::to(cx, k), Convert<U>::to(cx, e));
    return dict;
  }
  static std::map<K, U, C, A> from(Context& cx, const Value& v) {
    if (v.kind() != Kind::Dict) internal::throw_expected("dict", v);
    std::map<K, U, C, A> out;
    for (auto [k, e] : v.items()) out.insert_or_assign(Convert<K>::from(cx, k), Convert<U>::from(cx, e));
    return out;
  }
};

template <class... U>
struct Convert<std::tuple<U...>> {
  static Value to(Context& cx, const std::tuple<U...>& t) {
    // Elements may be references (std::tie), keeping the identity of the
    // fields they name.
    return std::apply([&](const U&... e) { return cx.graph().tuple({Item(cx.to_value(e))...}); }, t);
  }
  static std::tuple<U...> from(Context& cx, const Value& v) {
    if (v.kind() != Kind::Tuple && v.kind() != Kind::List) internal::throw_expected("tuple", v);
    if (v.size() != sizeof...(U)) {
      throw TypeError("expected " + std::to_string(sizeof...(U)) + " values, found " +
                      std::to_string(v.size()));
    }
    return from_each(cx, v, std::index_sequence_for<U...>{});
  }

 private:
  template <size_t... I>
  static std::tuple<U...> from_each(Context& cx, const Value& v, std::index_sequence<I...>) {
    // Braced initialization converts the elements in order.
    return std::tuple<U...>{Convert<U>::from(cx, v[I])...};
  }
};

template <class A, class B>
struct Convert<std::pair<A, B>> {
  static Value to(Context& cx, const std::pair<A, B>& p) {
    return cx.graph().tuple({Convert<A>::to(cx, p.first), Convert<B>::to(cx, p.second)});
  }
  static std::pair<A, B> from(Context& cx, const Value& v) {
    auto t = Convert<std::tuple<A, B>>::from(cx, v);
    return {std::move(std::get<0>(t)), std::move(std::get<1>(t))};
  }
};

// --- TypeBinding -------------------------------------------------------------

namespace internal {
// Runs `f`, prefixing a TypeError's message with `where`.
template <class F>
decltype(auto) with_context(const std::string& where, F&& f) {
  try {
    return f();
  } catch (const TypeError& e) {
    throw TypeError(where + ": " + e.what());
  }
}
}  // namespace internal

template <class T>
template <class F>
TypeBinding<T>& TypeBinding<T>::field(std::string name, F T::*member) {
  fields_.push_back({std::move(name), false,
                     [member](Context& cx, const T& o) { return cx.to_value(o.*member); },
                     [member](Context& cx, T& o, const Value& v) { o.*member = cx.from_value<F>(v); }});
  return *this;
}

template <class T>
template <class Get, class Set>
TypeBinding<T>& TypeBinding<T>::field(std::string name, Get get, Set set) {
  using F = std::decay_t<std::invoke_result_t<Get, const T&>>;
  fields_.push_back({std::move(name), false,
                     [get](Context& cx, const T& o) { return cx.to_value(F(get(o))); },
                     [set](Context& cx, T& o, const Value& v) { set(o, cx.from_value<F>(v)); }});
  return *this;
}

template <class T>
template <class F>
TypeBinding<T>& TypeBinding<T>::slot(std::string name, F T::*member) {
  field(std::move(name), member);
  fields_.back().slot = true;
  return *this;
}

template <class T>
template <class C>
TypeBinding<T>& TypeBinding<T>::list_items(C T::*member) {
  using U = typename C::value_type;
  base_ = internal::ObjectParts::Base::kList;
  list_get_ = [member](Context& cx, const T& o) {
    std::vector<Value> out;
    for (const U& e : o.*member) out.push_back(cx.to_value(e));
    return out;
  };
  list_add_ = [member](Context& cx, T& o, const Value& v) { (o.*member).push_back(cx.from_value<U>(v)); };
  return *this;
}

template <class T>
template <class M>
TypeBinding<T>& TypeBinding<T>::dict_items(M T::*member) {
  base_ = internal::ObjectParts::Base::kDict;
  dict_get_ = [member](Context& cx, const T& o) {
    std::vector<std::pair<Value, Value>> out;
    for (const auto& [k, e] : o.*member) out.emplace_back(cx.to_value(k), cx.to_value(e));
    return out;
  };
  dict_set_ = [member](Context& cx, T& o, const Value& k, const Value& v) {
    M& m = o.*member;
    if constexpr (requires { typename M::mapped_type; }) {
      m.insert_or_assign(cx.from_value<typename M::key_type>(k), cx.from_value<typename M::mapped_type>(v));
    } else {
      // A vector of pairs: setting a key again replaces it, as a dict does.
      using P = typename M::value_type;
      auto key = cx.from_value<std::decay_t<typename P::first_type>>(k);
      auto value = cx.from_value<std::decay_t<typename P::second_type>>(v);
      for (auto& p : m) {
        if (p.first == key) {
          p.second = std::move(value);
          return;
        }
      }
      m.emplace_back(std::move(key), std::move(value));
    }
  };
  return *this;
}

template <class T>
template <class M>
typename TypeBinding<T>::MakeFn TypeBinding<T>::typed_make(M make) const {
  using Args = typename internal::FunctionTraits<M>::Args;
  return [make](Context& cx, const Value& args) -> T {
    return std::apply(make, Convert<Args>::from(cx, args));
  };
}

template <class T>
template <class Get, class Make>
TypeBinding<T>& TypeBinding<T>::getnewargs(Get get, Make make) {
  newargs_get_ = [get](Context& cx, const T& o) { return cx.to_value(get(o)); };
  newargs_make_ = typed_make(make);
  return *this;
}

template <class T>
TypeBinding<T>& TypeBinding<T>::getnewargs_ex(
    std::function<std::pair<Value, Value>(Context&, const T&)> get,
    std::function<T(Context&, const Value& args, const Value& kwargs)> make) {
  newargs_ex_get_ = std::move(get);
  newargs_ex_make_ = std::move(make);
  return *this;
}

template <class T>
template <class Get, class Make>
TypeBinding<T>& TypeBinding<T>::getinitargs(Get get, Make make) {
  initargs_get_ = [get](Context& cx, const T& o) { return cx.to_value(get(o)); };
  init_ = typed_make(make);
  return *this;
}

template <class T>
template <class Make>
TypeBinding<T>& TypeBinding<T>::init(Make make) {
  init_ = typed_make(make);
  return *this;
}

template <class T>
template <class Make>
TypeBinding<T>& TypeBinding<T>::constructor(std::string module, std::string name, Make make) {
  ctors_.push_back({std::move(module), std::move(name), typed_make(make)});
  return *this;
}

template <class T>
bool TypeBinding<T>::has_constructor(std::string_view module, std::string_view name) const {
  if (init_ && module == this->module() && name == qualname()) return true;
  for (const Ctor& c : ctors_)
    if (c.module == module && c.name == name) return true;
  return false;
}

template <class T>
Value TypeBinding<T>::to_value(Context& cx, const T& obj) const {
  if (reduce_) return internal::reduce_value(cx, reduce_(cx, obj));
  internal::ObjectParts p;
  p.base = base_;
  p.old_style = old_style_ || static_cast<bool>(initargs_get_);
  if (initargs_get_) p.initargs = initargs_get_(cx, obj);
  if (cx.protocol() >= 2 && !p.old_style) {
    if (newargs_ex_get_) {
      auto [args, kwargs] = newargs_ex_get_(cx, obj);
      p.newargs = args;
      p.newkwargs = kwargs;
    } else if (newargs_get_) {
      p.newargs = newargs_get_(cx, obj);
    }
  }
  if (getstate_) {
    p.custom_state = true;
    p.state = getstate_(cx, obj);
  } else {
    Value dict, slots;
    for (const Field& f : fields_) {
      Value& into = f.slot ? slots : dict;
      if (into.is_none()) into = cx.graph().dict();
      into.set_item(cx.name(f.name), f.get(cx, obj));
    }
    p.has_slots = !slots.is_none();
    p.state = p.has_slots ? cx.graph().tuple({dict, slots}) : dict;
  }
  if (list_get_) p.list_items = list_get_(cx, obj);
  if (dict_get_) p.dict_items = dict_get_(cx, obj);
  return internal::reduce_object(cx, module(), qualname(), std::move(p));
}

template <class T>
T TypeBinding<T>::from_value(Context& cx, const Value& v) const {
  using Form = internal::Unreduced::Form;
  const std::string name = class_name();
  internal::Unreduced u = internal::unreduce(v, name);
  auto check_class = [&] {
    if (u.module != module() || u.name != qualname()) {
      throw TypeError("expected " + name + ", found an instance of " + u.module + "." + u.name);
    }
  };
  auto blank = [&]() -> T {
    if (blank_) return blank_();
    if constexpr (std::is_default_constructible_v<T>) {
      return T{};
    } else {
      throw TypeError(name + " has no default constructor: register make()");
    }
  };
  auto build = [&]() -> T {
    switch (u.form) {
      case Form::kCall:
        if (u.module == module() && u.name == qualname()) {
          if (!init_) throw TypeError(name + ": the pickle calls the class; register init()");
          return init_(cx, u.args);
        }
        for (const Ctor& c : ctors_)
          if (c.module == u.module && c.name == u.name) return c.make(cx, u.args);
        if (auto other = cx.registry().class_of_constructor(u.module, u.name)) {
          throw TypeError("expected " + name + ", found an instance of " + *other);
        }
        throw TypeError("expected " + name + ", found a call of " + u.module + "." + u.name +
                        ", which is no constructor registered for it");
      case Form::kInit:
        check_class();
        if (init_) return init_(cx, u.args);
        if (u.args.empty()) return blank();
        throw TypeError(name + ": the pickle calls the class with arguments; register init()");
      case Form::kNew: {
        check_class();
        bool has_kwargs = u.kwargs.kind() == Kind::Dict && !u.kwargs.empty();
        if (newargs_ex_make_ && (has_kwargs || !newargs_make_)) {
          return newargs_ex_make_(cx, u.args, has_kwargs ? u.kwargs : cx.graph().dict());
        }
        if (has_kwargs) throw TypeError(name + ": the pickle passes keywords to __new__; register getnewargs_ex()");
        if (newargs_make_) return newargs_make_(cx, u.args);
        if (u.args.empty()) return blank();
        throw TypeError(name + ": the pickle passes arguments to __new__; register getnewargs()");
      }
      case Form::kReconstruct:
        check_class();
        return blank();
    }
    throw TypeError("unreachable");
  };
  T obj = build();
  internal::with_context(name, [&] {
    if (u.base_state) {
      if (u.base_state->kind() == Kind::List && list_add_) {
        for (Value e : u.base_state->elements()) list_add_(cx, obj, e);
      } else if (u.base_state->kind() == Kind::Dict && dict_set_) {
        for (auto [k, e] : u.base_state->items()) dict_set_(cx, obj, k, e);
      } else {
        throw TypeError("cannot take a base " + internal::describe(*u.base_state) +
                        " (register list_items() or dict_items())");
      }
    }
    if (!u.list_items.empty() && !list_add_) throw TypeError("has list items; register list_items()");
    for (const Value& e : u.list_items) list_add_(cx, obj, e);
    if (!u.dict_items.empty() && !dict_set_) throw TypeError("has dict items; register dict_items()");
    for (const auto& [k, e] : u.dict_items) dict_set_(cx, obj, k, e);
    if (u.state) apply_state(cx, obj, *u.state);
  });
  return obj;
}

template <class T>
void TypeBinding<T>::apply_state(Context& cx, T& obj, const Value& state) const {
  if (setstate_) return setstate_(cx, obj, state);
  auto [dict, slots] = internal::split_state(state);
  for (const Value& part : {dict, slots}) {
    if (part.is_none()) continue;
    for (auto item : part.items()) {
      const Value& key = item.first;
      if (key.kind() != Kind::Str) continue;  // no field can have that name
      for (const Field& f : fields_) {
        if (f.name == key.as_str()) {
          // Not a structured binding: clang 14 cannot capture one in a lambda.
          internal::with_context("field '" + f.name + "'", [&] { f.set(cx, obj, item.second); });
          break;
        }
      }
    }
  }
}

// --- TypeRegistry ------------------------------------------------------------

template <class T>
TypeBinding<T>& TypeRegistry::add(std::string module, std::string qualname) {
  if (by_type_.count(std::type_index(typeid(T)))) {
    throw std::invalid_argument("type already registered (as " + class_name<T>() + ")");
  }
  if (find(module, qualname)) {
    throw std::invalid_argument("class " + module + "." + qualname + " already has a registered type");
  }
  auto binding = std::make_unique<TypeBinding<T>>(module, qualname);
  TypeBinding<T>& ref = *binding;
  by_class_.emplace(std::make_pair(std::move(module), std::move(qualname)), binding.get());
  by_type_.emplace(std::type_index(typeid(T)), std::move(binding));
  return ref;
}

template <class T>
const TypeBinding<T>& TypeRegistry::binding() const {
  auto it = by_type_.find(std::type_index(typeid(T)));
  if (it == by_type_.end()) {
    throw TypeError(std::string("C++ type ") + typeid(T).name() + " is not registered");
  }
  return static_cast<const TypeBinding<T>&>(*it->second);
}

template <class T>
std::string TypeRegistry::class_name() const {
  return binding<T>().class_name();
}

template <class T>
Value TypeRegistry::to_value(Graph& graph, const T& obj, int protocol) const {
  Context cx(*this, graph, protocol < 0 ? kHighestProtocol : protocol);
  return to_value(cx, obj);
}

template <class T>
Value TypeRegistry::to_value(Context& cx, const T& obj) const {
  return binding<T>().to_value(cx, obj);
}

template <class T>
std::string TypeRegistry::dumps(const T& obj, const PicklerOptions& options) const {
  Graph graph;
  return pickle::dumps(to_value(graph, obj, options.protocol), options);
}

template <class T>
T TypeRegistry::from_value(const Value& value) const {
  Context cx(*this, value.graph(), -1);
  return from_value<T>(cx, value);
}

template <class T>
T TypeRegistry::from_value(Context& cx, const Value& value) const {
  return binding<T>().from_value(cx, value);
}

template <class T>
bool TypeRegistry::holds(const Value& value) const {
  if (value.kind() != Kind::Instance) return false;
  const TypeBinding<T>& b = binding<T>();
  try {
    internal::Unreduced u = internal::unreduce(value, b.class_name());
    if (u.form == internal::Unreduced::Form::kCall) return b.has_constructor(u.module, u.name);
    return u.module == b.module() && u.name == b.qualname();
  } catch (const TypeError&) {
    return false;
  }
}

}  // namespace shelf::pickle
