// The protocol logic of pickle/types.h: which reduce tuple CPython's
// object.__reduce_ex__ (Objects/typeobject.c reduce_newobj, Lib/copyreg.py
// _reduce_ex) makes for an object at each protocol, how pickle.py's
// save_reduce turns a reduce tuple into opcodes, and reading every one of
// those forms (plus Python 2's INST/OBJ) back.
#include "pickle/types.h"

#include <string>
#include <vector>

namespace shelf::pickle {
namespace internal {
namespace {

bool is_global(const Value& v, std::string_view module, std::string_view name) {
  return v.kind() == Kind::Global && v.module() == module && v.name() == name;
}

Value slice(const Value& tuple, size_t from) {
  std::vector<Value> items;
  for (size_t i = from; i < tuple.size(); ++i) items.push_back(tuple[i]);
  Graph g = tuple.graph();
  return g.tuple(items);
}

[[noreturn]] void bad_form(std::string_view expected, const std::string& what) {
  throw TypeError("expected " + std::string(expected) + ", found " + what);
}

// functools.partial(cls.__new__, cls, *args, **kwargs)(): how pickle.py
// writes copyreg.__newobj_ex__ below protocol 4. Loaded inertly, the
// partial is REDUCE(partial, (getattr(cls, '__new__'),)) BUILT with
// (func, (cls, *args), kwargs, None).
bool unpartial(const Value& callable, Unreduced& u) {
  if (callable.kind() != Kind::Instance || callable.construction() != Construction::Reduce) return false;
  if (!is_global(callable.callable(), "functools", "partial")) return false;
  auto state = callable.state();
  if (!state || state->kind() != Kind::Tuple || state->size() != 4) return false;
  Value call = (*state)[1];
  if (call.kind() != Kind::Tuple || call.empty() || call[0].kind() != Kind::Global) return false;
  Value fn = (*state)[0];
  if (fn.kind() != Kind::Instance || !is_global(fn.callable(), "builtins", "getattr")) return false;
  u.form = Unreduced::Form::kNew;
  u.module = call[0].module();
  u.name = call[0].name();
  u.args = slice(call, 1);
  u.kwargs = (*state)[2];
  return true;
}

}  // namespace

[[noreturn]] void throw_expected(std::string_view expected, const Value& found) {
  throw TypeError("expected " + std::string(expected) + ", found " + describe(found));
}

std::string describe(const Value& v) {
  if (v.kind() == Kind::Global) return "the global " + std::string(v.module()) + "." + std::string(v.name());
  if (v.kind() != Kind::Instance) return std::string(v.type_name());
  try {
    Unreduced u = unreduce(v, "");
    if (u.form == Unreduced::Form::kCall) return "a call of " + u.module + "." + u.name;
    return "an instance of " + u.module + "." + u.name;
  } catch (const TypeError&) {
    return "an instance";
  }
}

Unreduced unreduce(const Value& v, std::string_view expected) {
  if (v.kind() != Kind::Instance) throw_expected(expected, v);
  Unreduced u;
  Value callable = v.callable();
  Value args = v.args();
  if (args.kind() != Kind::Tuple) bad_form(expected, "an instance built with " + describe(args) + " arguments");
  u.args = args;
  u.kwargs = v.kwargs();
  u.state = v.state();
  u.list_items = v.list_items();
  u.dict_items = v.dict_items();
  switch (v.construction()) {
    case Construction::Inst:
    case Construction::Obj:
      u.form = Unreduced::Form::kInit;
      break;
    case Construction::NewObj:
    case Construction::NewObjEx:
      u.form = Unreduced::Form::kNew;
      break;
    case Construction::Reduce:
      if (unpartial(callable, u)) return u;
      if (callable.kind() != Kind::Global) bad_form(expected, "a call of " + describe(callable));
      if (is_global(callable, "copyreg", "_reconstructor") && args.size() == 3 &&
          args[0].kind() == Kind::Global) {
        u.form = Unreduced::Form::kReconstruct;
        u.module = args[0].module();
        u.name = args[0].name();
        if (!args[2].is_none()) u.base_state = args[2];
        return u;
      }
      if (is_global(callable, "copyreg", "__newobj__") && !args.empty() && args[0].kind() == Kind::Global) {
        u.form = Unreduced::Form::kNew;
        u.module = args[0].module();
        u.name = args[0].name();
        u.args = slice(args, 1);
        return u;
      }
      if (is_global(callable, "copyreg", "__newobj_ex__") && args.size() == 3 &&
          args[0].kind() == Kind::Global && args[1].kind() == Kind::Tuple) {
        u.form = Unreduced::Form::kNew;
        u.module = args[0].module();
        u.name = args[0].name();
        u.args = args[1];
        u.kwargs = args[2];
        return u;
      }
      u.form = Unreduced::Form::kCall;
      break;
  }
  if (callable.kind() != Kind::Global) bad_form(expected, "an instance of " + describe(callable));
  u.module = callable.module();
  u.name = callable.name();
  return u;
}

bool truthy(const Value& v) {
  switch (v.kind()) {
    case Kind::None:
      return false;
    case Kind::Bool:
      return v.as_bool();
    case Kind::Int:
      return !v.fits_int64() || v.as_int() != 0;
    case Kind::Float:
      return v.as_float() != 0.0;
    case Kind::Complex:
      return v.as_complex() != std::complex<double>(0, 0);
    case Kind::Bytes:
    case Kind::Str:
    case Kind::ByteArray:
    case Kind::Tuple:
    case Kind::List:
    case Kind::Dict:
    case Kind::Set:
    case Kind::FrozenSet:
      return !v.empty();
    default:
      return true;
  }
}

std::pair<Value, Value> split_state(const Value& state) {
  auto dict_or_none = [](const Value& v) { return v.is_none() || v.kind() == Kind::Dict; };
  if (dict_or_none(state)) return {state, Value()};
  if (state.kind() == Kind::Tuple && state.size() == 2 && dict_or_none(state[0]) && dict_or_none(state[1])) {
    return {state[0], state[1]};
  }
  throw TypeError("the state is " + describe(state) +
                  ", not a dict or (dict, slots); register setstate() to load it");
}

Value reduce_object(Context& cx, std::string_view module, std::string_view qualname, ObjectParts parts) {
  Graph& g = cx.graph();
  const int protocol = cx.protocol();
  Value cls = g.global(module, qualname);
  if (parts.old_style) {
    // Python 2's save_inst: MARK args INST (protocol 0) or MARK cls args
    // OBJ, then the state (the __dict__ when there is no __getstate__)
    // BUILT unconditionally.
    Value args = parts.initargs ? *parts.initargs : g.tuple({});
    Value obj = g.instance(protocol == 0 ? Construction::Inst : Construction::Obj, cls, args);
    obj.set_state(parts.state.is_none() && !parts.custom_state ? g.dict() : parts.state);
    return obj;
  }
  Value obj;
  if (protocol < 2) {
    // copyreg._reduce_ex: _reconstructor(cls, base, base(obj)) and the
    // state only when true.
    if (parts.has_slots && !parts.custom_state) {
      throw PicklingError("a class that defines __slots__ without defining __getstate__ cannot be pickled");
    }
    Value base, base_state;
    switch (parts.base) {
      case ObjectParts::Base::kObject:
        base = g.global("builtins", "object");
        break;
      case ObjectParts::Base::kList:
        base = g.global("builtins", "list");
        base_state = g.list(parts.list_items);
        break;
      case ObjectParts::Base::kDict:
        base = g.global("builtins", "dict");
        base_state = g.dict();
        for (const auto& [k, v] : parts.dict_items) base_state.set_item(k, v);
        break;
    }
    obj = g.instance(Construction::Reduce, g.global("copyreg", "_reconstructor"), g.tuple({cls, base, base_state}));
    if (truthy(parts.state)) obj.set_state(parts.state);
    return obj;
  }
  // reduce_newobj: __newobj__(cls, *args), or __newobj_ex__ when there are
  // keyword arguments; then list items, dict items and a non-None state.
  Value args = parts.newargs ? *parts.newargs : g.tuple({});
  if (parts.newkwargs && parts.newkwargs->kind() == Kind::Dict && !parts.newkwargs->empty()) {
    obj = g.instance(Construction::NewObjEx, cls, args, *parts.newkwargs);
  } else {
    obj = g.instance(Construction::NewObj, cls, args);
  }
  for (const Value& item : parts.list_items) obj.add_list_item(item);
  for (const auto& [k, v] : parts.dict_items) obj.add_dict_item(k, v);
  if (!parts.state.is_none()) obj.set_state(parts.state);
  return obj;
}

Value reduce_value(Context& cx, const Reduction& r) {
  Graph& g = cx.graph();
  if (r.args.kind() != Kind::Tuple) {
    throw PicklingError("second item of the tuple returned by __reduce__ must be a tuple");
  }
  Value obj;
  if (cx.protocol() >= 2 && is_global(r.callable, "copyreg", "__newobj__")) {
    if (r.args.empty() || r.args[0].kind() != Kind::Global) {
      throw PicklingError("__newobj__ arglist is empty or its first item is not a class");
    }
    obj = g.instance(Construction::NewObj, r.args[0], slice(r.args, 1));
  } else if (cx.protocol() >= 2 && is_global(r.callable, "copyreg", "__newobj_ex__")) {
    if (r.args.size() != 3 || r.args[0].kind() != Kind::Global) {
      throw PicklingError("__newobj_ex__ args must be (cls, args, kwargs)");
    }
    obj = g.instance(Construction::NewObjEx, r.args[0], r.args[1], r.args[2]);
  } else {
    obj = g.instance(Construction::Reduce, r.callable, r.args);
  }
  for (const Value& item : r.list_items) obj.add_list_item(item);
  for (const auto& [k, v] : r.dict_items) obj.add_dict_item(k, v);
  if (r.state && !r.state->is_none()) obj.set_state(*r.state);
  return obj;
}

}  // namespace internal

Value Context::name(std::string_view text) {
  auto it = names_.find(text);
  if (it == names_.end()) it = names_.emplace(std::string(text), graph_.str(text)).first;
  return it->second;
}

Value Context::str_at(const void* where, std::string_view text) {
  auto [it, fresh] = strings_.try_emplace(where);
  // A temporary may reuse an address with other text: then it is another
  // string.
  if (fresh || it->second.as_str() != text) it->second = graph_.str(text);
  return it->second;
}

const internal::BindingBase* TypeRegistry::find(std::string_view module, std::string_view qualname) const {
  auto it = by_class_.find(std::make_pair(std::string(module), std::string(qualname)));
  return it == by_class_.end() ? nullptr : it->second;
}

std::optional<std::string> TypeRegistry::class_of_constructor(std::string_view module, std::string_view name) const {
  for (const auto& [type, binding] : by_type_)
    if (binding->has_constructor(module, name)) return binding->class_name();
  return std::nullopt;
}

}  // namespace shelf::pickle
