// The Pickler's encoders for containers, complex, globals and inert
// instances: pickle.py's save_tuple, save_list, save_dict, save_set,
// save_frozenset, save_global (with copyreg's extension codes) and
// save_reduce, as _pickle.c writes them.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "pickle/internal/compat_names.h"
#include "pickle/internal/pickler_impl.h"

namespace shelf::pickle {

void Pickler::Impl::save_tuple(const Slot& s) {
  auto* node = static_cast<const TupleNode*>(s.node);
  uint32_t n = node->size;
  if (n == 0) {
    if (bin_) return out_.put(op(Op::EMPTY_TUPLE));
    return out_.put2(op(Op::MARK), op(Op::TUPLE));
  }
  DepthGuard guard(*this);
  if (n <= 3 && proto_ >= 2) {
    for (uint32_t i = 0; i < n; ++i) save(node->items[i], false);
    uint32_t index = memo_find(node);
    if (index != kMissing) {
      for (uint32_t i = 0; i < n; ++i) out_.put(op(Op::POP));
      return emit_get(index);
    }
    out_.put(op(kTupleOps[n]));
    return memoize(s);
  }
  out_.put(op(Op::MARK));
  for (uint32_t i = 0; i < n; ++i) save(node->items[i], false);
  uint32_t index = memo_find(node);
  if (index != kMissing) {
    if (bin_) {
      out_.put(op(Op::POP_MARK));
    } else {
      for (uint32_t i = 0; i <= n; ++i) out_.put(op(Op::POP));
    }
    return emit_get(index);
  }
  out_.put(op(Op::TUPLE));
  memoize(s);
}

void Pickler::Impl::save_list(const Slot& s, uint32_t index) {
  auto* node = static_cast<const ListNode*>(s.node);
  DepthGuard guard(*this);
  if (bin_) {
    out_.put(op(Op::EMPTY_LIST));
  } else {
    out_.put2(op(Op::MARK), op(Op::LIST));
  }
  emit_put(index);
  // Indexes, not iterators: a hook may mutate the list meanwhile.
  auto item = [node](size_t i) -> const Slot& { return node->items[i]; };
  auto size = [node] { return node->items.size(); };
  save_list_items(item, size);
}

void Pickler::Impl::save_dict(const Slot& s, uint32_t index) {
  auto* node = static_cast<const HashNode*>(s.node);
  DepthGuard guard(*this);
  if (bin_) {
    out_.put(op(Op::EMPTY_DICT));
  } else {
    out_.put2(op(Op::MARK), op(Op::DICT));
  }
  emit_put(index);
  const auto& entries = node->table.entries;
  if (node->table.live == 0) return;
  if (!bin_) {
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].erased) continue;
      save_pair(entries, i);
      out_.put(op(Op::SETITEM));
    }
    return;
  }
  if (node->table.live == 1) {
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].erased) continue;
      save_pair(entries, i);
      return out_.put(op(Op::SETITEM));
    }
  }
  // _pickle.c batch_dict_exact: a dict of exactly k*1000 items ends with
  // an empty MARK SETITEMS batch; so must ours.
  size_t pos = 0;
  size_t batch;
  do {
    batch = 0;
    out_.put(op(Op::MARK));
    while (pos < entries.size()) {
      size_t i = pos++;
      if (entries[i].erased) continue;
      save_pair(entries, i);
      if (++batch == kBatchSize) break;
    }
    out_.put(op(Op::SETITEMS));
  } while (batch == kBatchSize);
}

void Pickler::Impl::save_set(const Slot& s) {
  auto* node = static_cast<const HashNode*>(s.node);
  DepthGuard guard(*this);
  if (proto_ < 4) return save_set_reduce(s, "set");
  out_.put(op(Op::EMPTY_SET));
  memoize(s);
  const auto& entries = node->table.entries;
  if (node->table.live == 0) return;
  // As batch_dict_exact: k*1000 items end with an empty batch.
  size_t pos = 0;
  size_t batch;
  do {
    batch = 0;
    out_.put(op(Op::MARK));
    while (pos < entries.size()) {
      size_t i = pos++;
      if (entries[i].erased) continue;
      save(entries[i].key, false);
      if (++batch == kBatchSize) break;
    }
    out_.put(op(Op::ADDITEMS));
  } while (batch == kBatchSize);
}

void Pickler::Impl::save_frozenset(const Slot& s) {
  auto* node = static_cast<const HashNode*>(s.node);
  DepthGuard guard(*this);
  if (proto_ < 4) return save_set_reduce(s, "frozenset");
  out_.put(op(Op::MARK));
  const auto& entries = node->table.entries;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].erased) continue;
    save(entries[i].key, false);
  }
  uint32_t index = memo_find(node);
  if (index != kMissing) {
    out_.put(op(Op::POP_MARK));
    return emit_get(index);
  }
  out_.put(op(Op::FROZENSET));
  memoize(s);
}

void Pickler::Impl::save_set_reduce(const Slot& s, std::string_view type) {
  auto* node = static_cast<const HashNode*>(s.node);
  save_global_named("builtins", type);
  save_helper_tuple(1, [&] {
    out_.opcode_boundary();
    DepthGuard guard(*this);
    if (bin_) {
      out_.put(op(Op::EMPTY_LIST));
    } else {
      out_.put2(op(Op::MARK), op(Op::LIST));
    }
    memoize_fresh();
    // list(set) holds the live entries in order.
    std::vector<Slot> items;
    items.reserve(node->table.live);
    for (const auto& e : node->table.entries)
      if (!e.erased) items.push_back(e.key);
    save_list_items([&items](size_t i) -> const Slot& { return items[i]; }, [&items] { return items.size(); });
  });
  finish_reduce(&s);
}

void Pickler::Impl::save_complex(const Slot& s) {
  auto* node = static_cast<const ComplexNode*>(s.node);
  DepthGuard guard(*this);
  save_global_named("builtins", "complex");
  save_helper_tuple(2, [&] {
    out_.opcode_boundary();
    save_float(node->real);
    out_.opcode_boundary();
    save_float(node->imag);
  });
  finish_reduce(&s);
}

void Pickler::Impl::finish_reduce(const Slot* obj, size_t single) {
  out_.put(op(Op::REDUCE));
  if (obj != nullptr) {
    uint32_t index = lookup(*obj);
    if (index != kMissing) {
      out_.put(op(Op::POP));
      return emit_get(index);
    }
    return memoize(*obj);
  }
  memoize_bytes(nullptr, single);
}

void Pickler::Impl::save_global_named(std::string_view module, std::string_view name) {
  out_.opcode_boundary();
  std::string key = global_key(module, name);
  auto it = named_.find(key);
  if (it != named_.end()) return emit_get(it->second);
  if (proto_ >= 2 && options_.extensions) {
    if (std::optional<int32_t> code = options_.extensions->code(module, name)) {
      // _pickle.c save_global writes the code and, unlike GLOBAL, never
      // memoizes it: every use of the global repeats the EXT opcode.
      char* p = out_.room(5);
      if (*code <= 0xff) {
        p[0] = op(Op::EXT1);
        p[1] = static_cast<char>(*code);
        return out_.advance(2);
      }
      if (*code <= 0xffff) {
        p[0] = op(Op::EXT2);
        put_le(p + 1, static_cast<uint64_t>(*code), 2);
        return out_.advance(3);
      }
      p[0] = op(Op::EXT4);
      put_le(p + 1, static_cast<uint64_t>(*code), 4);
      return out_.advance(5);
    }
  }
  DepthGuard guard(*this);
  size_t dot = name.rfind('.');
  if (proto_ >= 4) {
    save_interned_str(module);
    save_helper_str(name);
    out_.put(op(Op::STACK_GLOBAL));
  } else if (dot != std::string_view::npos) {
    // A nested qualified name: getattr(parent, last), as CPython < 4.
    save_global_named("builtins", "getattr");
    save_helper_tuple(2, [&] {
      save_global_named(module, name.substr(0, dot));
      save_helper_str(name.substr(dot + 1));
    });
    out_.put(op(Op::REDUCE));
  } else {
    emit_global_opcode(Op::GLOBAL, module, name);
  }
  // The recursive save above may have memoized a parent of this name,
  // never this name itself.
  uint32_t index = next_memo_index();
  named_.emplace(std::move(key), index);
  emit_put(index);
}

void Pickler::Impl::emit_global_opcode(Op opcode, std::string_view module, std::string_view name) {
  if (module.find('\n') != std::string_view::npos || name.find('\n') != std::string_view::npos) {
    fail("can't pickle global identifier containing a newline");
  }
  std::string_view m = module, n = name;
  if (proto_ < 3 && options_.fix_imports) {
    if (auto mapped = internal::python2_name(module, name)) {
      m = mapped->first;
      n = mapped->second;
    }
  }
  if (proto_ < 3) {
    if (!is_ascii(m)) {
      fail("can't pickle module identifier '" + std::string(m) + "' using pickle protocol " +
           std::to_string(proto_));
    }
    if (!is_ascii(n)) {
      fail("can't pickle global identifier '" + std::string(n) + "' using pickle protocol " +
           std::to_string(proto_));
    }
  }
  out_.put(op(opcode));
  out_.put(m);
  out_.put('\n');
  out_.put(n);
  out_.put('\n');
}

void Pickler::Impl::save_instance(const Slot& s) {
  auto* node = static_cast<const InstanceNode*>(s.node);
  DepthGuard guard(*this);
  Slot callable = node->callable, args = node->args, kwargs = node->kwargs;
  switch (node->how) {
    case Construction::Reduce:
      save(callable, false);
      save(args, false);
      out_.put(op(Op::REDUCE));
      break;
    case Construction::NewObj:
      if (proto_ >= 2) {
        save(callable, false);
        save(args, false);
        out_.put(op(Op::NEWOBJ));
      } else {
        // copyreg.__newobj__(cls, *args), as save_reduce writes it below 2.
        const TupleNode* t = tuple_args(args, "NEWOBJ");
        save_global_named("copyreg", "__newobj__");
        save_helper_tuple(1 + t->size, [&] {
          save(callable, false);
          for (uint32_t i = 0; i < t->size; ++i) save(t->items[i], false);
        });
        out_.put(op(Op::REDUCE));
      }
      break;
    case Construction::NewObjEx:
      if (proto_ >= 4) {
        save(callable, false);
        save(args, false);
        save(kwargs, false);
        out_.put(op(Op::NEWOBJ_EX));
      } else {
        save_newobj_ex_fallback(callable, args, kwargs);
      }
      break;
    case Construction::Inst:
      if (callable.kind == Kind::Global) {
        auto* g = static_cast<const GlobalNode*>(callable.node);
        const TupleNode* t = tuple_args(args, "INST");
        out_.put(op(Op::MARK));
        for (uint32_t i = 0; i < t->size; ++i) save(t->items[i], false);
        emit_global_opcode(Op::INST, g->module, g->name);
        break;
      }
      [[fallthrough]];
    case Construction::Obj: {
      const TupleNode* t = tuple_args(args, "OBJ");
      out_.put(op(Op::MARK));
      save(callable, false);
      for (uint32_t i = 0; i < t->size; ++i) save(t->items[i], false);
      out_.put(op(Op::OBJ));
      break;
    }
  }
  uint32_t index = memo_find(node);
  if (index != kMissing) {
    out_.put(op(Op::POP));
    emit_get(index);
  } else {
    memoize(s);
  }
  save_instance_items(node);
}

void Pickler::Impl::save_instance_items(const InstanceNode* node) {
  // _pickle.c batch_list / batch_dict: a trailing batch of one item
  // uses APPEND / SETITEM.
  size_t n = node->list_items.size();
  if (!bin_) {
    for (size_t i = 0; i < node->list_items.size(); ++i) {
      save(Slot(node->list_items[i]), false);
      out_.put(op(Op::APPEND));
    }
  } else {
    for (size_t start = 0; start < n; start += kBatchSize) {
      size_t count = std::min(kBatchSize, n - start);
      if (count == 1) {
        save(Slot(node->list_items[start]), false);
        out_.put(op(Op::APPEND));
        continue;
      }
      out_.put(op(Op::MARK));
      for (size_t i = start; i < start + count; ++i) save(Slot(node->list_items[i]), false);
      out_.put(op(Op::APPENDS));
    }
  }
  n = node->dict_items.size();
  if (!bin_) {
    for (size_t i = 0; i < node->dict_items.size(); ++i) {
      auto [k, v] = node->dict_items[i];
      save(k, false);
      save(v, false);
      out_.put(op(Op::SETITEM));
    }
  } else {
    for (size_t start = 0; start < n; start += kBatchSize) {
      size_t count = std::min(kBatchSize, n - start);
      if (count == 1) {
        auto [k, v] = node->dict_items[start];
        save(k, false);
        save(v, false);
        out_.put(op(Op::SETITEM));
        continue;
      }
      out_.put(op(Op::MARK));
      for (size_t i = start; i < start + count; ++i) {
        auto [k, v] = node->dict_items[i];
        save(k, false);
        save(v, false);
      }
      out_.put(op(Op::SETITEMS));
    }
  }
  // pickle.py writes BUILD only for a state that is not None.
  if (node->has_state && node->state.kind != Kind::None) {
    Slot state = node->state;
    save(state, false);
    out_.put(op(Op::BUILD));
  }
}

const TupleNode* Pickler::Impl::tuple_args(const Slot& args, const char* what) {
  if (args.kind != Kind::Tuple) {
    fail(std::string("cannot pickle an instance built by ") + what + " whose arguments are a " +
         std::string(kind_name(args.kind)) + ", not a tuple");
  }
  return static_cast<const TupleNode*>(args.node);
}

void Pickler::Impl::save_newobj_ex_fallback(const Slot& cls, const Slot& args, const Slot& kwargs) {
  const TupleNode* t = tuple_args(args, "NEWOBJ_EX");
  bool has_kwargs = kwargs.kind == Kind::Dict && static_cast<const HashNode*>(kwargs.node)->table.live != 0;
  out_.opcode_boundary();
  {
    DepthGuard guard(*this);
    save_global_named("functools", "partial");
    uint32_t new_index = 0;
    save_helper_tuple(1, [&] {
      // cls.__new__: getattr(cls, '__new__'), memoized.
      out_.opcode_boundary();
      save_global_named("builtins", "getattr");
      save_helper_tuple(2, [&] {
        save(cls, false);
        save_interned_str("__new__");
      });
      out_.put(op(Op::REDUCE));
      new_index = next_memo_index();
      emit_put(new_index);
    });
    out_.put(op(Op::REDUCE));
    memoize_fresh();  // the partial object
    save_helper_tuple(4, [&] {
      out_.opcode_boundary();
      emit_get(new_index);
      save_helper_tuple(1 + t->size, [&] {
        save(cls, false);
        for (uint32_t i = 0; i < t->size; ++i) save(t->items[i], false);
      });
      if (has_kwargs) {
        save(kwargs, false);
      } else {
        out_.opcode_boundary();
        out_.put(op(Op::NONE));
      }
      out_.opcode_boundary();
      out_.put(op(Op::NONE));
    });
    out_.put(op(Op::BUILD));
  }
  save_empty_tuple();
  out_.put(op(Op::REDUCE));
}

}  // namespace shelf::pickle
