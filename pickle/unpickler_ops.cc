// pickle/unpickler_ops.cc: the Unpickler's handlers for the opcodes that
// build containers, resolve globals, call (inertly) and set state, plus
// persistent ids, buffers and extensions. Semantics follow pickle.py's
// load_* methods; where _pickle.c differs, the comment says whom we follow.
// Nothing here ever runs anything: a call is a data constructor built
// natively, or an inert Instance node.
#include <string>

#include "pickle/internal/bigint.h"
#include "pickle/internal/compat_names.h"
#include "pickle/internal/unpickler_machine.h"
#include "pickle/internal/utf8.h"

namespace shelf::pickle::internal {
namespace {

constexpr size_t kEntryBytes = sizeof(HashEntry) + 2 * sizeof(int32_t);

std::string type_name(const Slot& s) { return std::string(kind_name(s.kind)); }

std::string_view text_of(const Slot& s) { return static_cast<const TextNode*>(s.node)->data; }

// What Python could call: a class or function (Global), or an object we
// keep inert (its class may define __call__), or a persistent object.
bool maybe_callable(const Slot& s) {
  return s.kind == Kind::Global || s.kind == Kind::Instance || s.kind == Kind::PersistentRef;
}

[[noreturn]] void codec_error(std::string_view codec, std::string_view s, size_t pos, std::string_view why) {
  static const char kHex[] = "0123456789abcdef";
  auto c = static_cast<unsigned char>(s[pos]);
  fail(UnpicklingReason::kBadArgument, "'" + std::string(codec) + "' codec can't decode byte 0x" + kHex[c >> 4] +
                                           kHex[c & 15] + " in position " + std::to_string(pos) + ": " +
                                           std::string(why));
}

// pickle.py's load_build: a false state changes nothing, whatever the
// object (a 2-tuple is (state, slotstate)).
bool falsy_state(const Slot& s) {
  switch (s.kind) {
    case Kind::None: return true;
    case Kind::Bool: return !s.b;
    case Kind::Int: return !s.is_big && s.i == 0;
    case Kind::Float: return s.f == 0.0;
    case Kind::Str:
    case Kind::Bytes: return text_of(s).empty();
    case Kind::List: return static_cast<const ListNode*>(s.node)->items.empty();
    case Kind::Dict:
    case Kind::Set:
    case Kind::FrozenSet: return static_cast<const HashNode*>(s.node)->table.live == 0;
    case Kind::Tuple: {
      auto* t = static_cast<const TupleNode*>(s.node);
      if (t->size == 0) return true;
      return t->size == 2 && falsy_state(t->items[0]) && falsy_state(t->items[1]);
    }
    default: return false;
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Numbers and Python 2 strings

Slot Machine::decimal_int(const DecimalArg& d) {
  auto big = BigInt::from_digits(d.digits, d.base);
  if (!big) fail(UnpicklingReason::kBadArgument, "invalid integer digits");
  big->negative = d.negative && !big->is_zero();
  if (big->fits_int64()) return int_slot(big->to_int64());
  std::string le = big->to_le();
  charge(sizeof(BigIntNode) + le.size());
  return node_slot(arena_->make<BigIntNode>(arena_->copy_bytes(le)));
}

Slot Machine::long_le(std::string_view le) {
  if (le.size() > 8) charge(sizeof(BigIntNode) + le.size());
  return make_int_from_le(*arena_, le);
}

// STRING, BINSTRING, SHORT_BINSTRING: a Python 2 str, decoded as Python 3's
// Unpickler(encoding=...) decodes it, strictly.
Slot Machine::python2_str(std::string_view bytes) {
  switch (options_.encoding) {
    case StringEncoding::kBytes: return text(Kind::Bytes, bytes);
    case StringEncoding::kAscii:
      for (size_t i = 0; i < bytes.size(); ++i)
        if (static_cast<unsigned char>(bytes[i]) >= 0x80) codec_error("ascii", bytes, i, "ordinal not in range(128)");
      return text(Kind::Str, bytes);
    case StringEncoding::kLatin1: {
      return text(Kind::Str, latin1_to_utf8(bytes));
    }
    case StringEncoding::kUtf8: {
      if (!valid_utf8_strict(bytes)) {
        size_t i = 0;
        for (size_t next = 0; next < bytes.size(); i = next) {
          int32_t cp = utf8_next(bytes, next);
          if (cp < 0 || (cp >= 0xD800 && cp <= 0xDFFF)) break;
        }
        codec_error("utf-8", bytes, i, "invalid continuation byte");
      }
      return text(Kind::Str, bytes);
    }
  }
  return text(Kind::Bytes, bytes);
}

void Machine::proto(uint8_t version) {
  // A protocol newer than 5 may use opcodes we do not know.
  if (version > 5) fail(UnpicklingReason::kUnknownOpcode, "unsupported pickle protocol: " + std::to_string(version));
  proto_ = version;
}

// ---------------------------------------------------------------------------
// Containers

void Machine::list() {
  std::span<Slot> items = stack_.pop_mark();
  if (noload_) {
    stack_.push(Slot());
    return;
  }
  charge(sizeof(ListNode) + items.size() * sizeof(Slot));
  auto* l = arena_->make<ListNode>();
  l->items.assign(items.begin(), items.end());
  stack_.push(node_slot(l));
}

void Machine::dict() {
  std::span<Slot> items = stack_.pop_mark();
  if (items.size() % 2 != 0) fail(UnpicklingReason::kStackUnderflow, "odd number of items for DICT");
  if (noload_) {
    stack_.push(Slot());
    return;
  }
  charge(sizeof(HashNode) + items.size() / 2 * kEntryBytes);
  auto* h = arena_->make<HashNode>(Kind::Dict);
  insert_items(h->table, items, 2);
  stack_.push(node_slot(h));
}

void Machine::frozenset() {
  std::span<Slot> items = stack_.pop_mark();
  if (noload_) {
    stack_.push(Slot());
    return;
  }
  charge(sizeof(HashNode) + items.size() * kEntryBytes);
  auto* h = arena_->make<HashNode>(Kind::FrozenSet);
  insert_items(h->table, items, 1);
  stack_.push(node_slot(h));
}

void Machine::append() {
  Slot value = stack_.pop();
  Slot& target = stack_.top();
  if (noload_) return;
  if (target.kind == Kind::List) {
    charge(sizeof(Slot));
    static_cast<ListNode*>(target.node)->items.push_back(value);
  } else if (target.kind == Kind::Instance) {
    charge(sizeof(Slot));
    static_cast<InstanceNode*>(target.node)->list_items.push_back(value);
  } else {
    fail(UnpicklingReason::kBadValue, "'" + type_name(target) + "' object has no attribute 'append'");
  }
}

void Machine::appends() {
  std::span<Slot> items = stack_.pop_mark();
  Slot& target = stack_.top();
  if (noload_) return;
  GraphVector<Slot>* dst;
  if (target.kind == Kind::List) {
    dst = &static_cast<ListNode*>(target.node)->items;
  } else if (target.kind == Kind::Instance) {
    dst = &static_cast<InstanceNode*>(target.node)->list_items;
  } else {
    fail(UnpicklingReason::kBadValue, "'" + type_name(target) + "' object has no attribute 'extend'");
  }
  charge(items.size() * sizeof(Slot));
  dst->insert(dst->end(), items.begin(), items.end());
}

void Machine::setitem() {
  Slot value = stack_.pop();
  Slot key = stack_.pop();
  Slot& target = stack_.top();
  if (noload_) return;
  if (target.kind == Kind::Dict) {
    charge(kEntryBytes);
    static_cast<HashNode*>(target.node)->table.insert(key, hash_key(key), value);
  } else if (target.kind == Kind::Instance) {
    charge(2 * sizeof(Slot));
    static_cast<InstanceNode*>(target.node)->dict_items.emplace_back(key, value);
  } else {
    fail(UnpicklingReason::kBadValue, "'" + type_name(target) + "' object does not support item assignment");
  }
}

void Machine::setitems() {
  std::span<Slot> items = stack_.pop_mark();
  Slot& target = stack_.top();
  if (items.size() % 2 != 0) fail(UnpicklingReason::kStackUnderflow, "odd number of items for SETITEMS");
  if (noload_) return;
  if (target.kind == Kind::Dict) {
    charge(items.size() / 2 * kEntryBytes);
    HashTable& table = static_cast<HashNode*>(target.node)->table;
    insert_items(table, items, 2);
  } else if (target.kind == Kind::Instance) {
    charge(items.size() * sizeof(Slot));
    auto& dst = static_cast<InstanceNode*>(target.node)->dict_items;
    for (size_t i = 0; i < items.size(); i += 2) dst.emplace_back(items[i], items[i + 1]);
  } else {
    fail(UnpicklingReason::kBadValue, "'" + type_name(target) + "' object does not support item assignment");
  }
}

void Machine::additems() {
  std::span<Slot> items = stack_.pop_mark();
  Slot& target = stack_.top();
  if (noload_) return;
  if (target.kind != Kind::Set)
    fail(UnpicklingReason::kBadValue, "'" + type_name(target) + "' object has no attribute 'add'");
  charge(items.size() * kEntryBytes);
  HashTable& table = static_cast<HashNode*>(target.node)->table;
  insert_items(table, items, 1);
}

// ---------------------------------------------------------------------------
// Globals and calls

Slot Machine::resolve_global(std::string_view module, std::string_view name) {
  // pickle.py's find_class maps Python 2 names only for protocol < 3.
  if (options_.fix_imports && proto_ < 3) {
    if (auto mapped = python3_name(module, name)) {
      module = mapped->first;
      name = mapped->second;
    }
  }
  // As CPython's find_class, whose __import__('') fails so.
  if (module.empty()) fail(UnpicklingReason::kBadValue, "Empty module name");
  GlobalAction action = GlobalAction::kBuild;
  if (!noload_) action = options_.find_global.global(module, name);
  if (action == GlobalAction::kRefuse)
    fail(UnpicklingReason::kForbiddenGlobal,
         "global '" + std::string(module) + "." + std::string(name) + "' is forbidden");
  charge(sizeof(GlobalNode) + module.size() + name.size());
  auto* g = arena_->make<GlobalNode>(arena_->copy_bytes(module), arena_->copy_bytes(name));
  if (action == GlobalAction::kBuild && !noload_) {
    DataCtor ctor = data_ctor(module, name);
    if (ctor != DataCtor::kNone) ctors_.emplace(g, ctor);
  }
  return node_slot(g);
}

void Machine::global(std::string_view module, std::string_view name) {
  if (!valid_utf8_strict(module) || !valid_utf8_strict(name))
    fail(UnpicklingReason::kBadArgument, "GLOBAL module and name must be UTF-8");
  stack_.push(resolve_global(module, name));
}

void Machine::stack_global() {
  Slot name = stack_.pop();
  Slot module = stack_.pop();
  if (name.kind != Kind::Str || module.kind != Kind::Str)
    fail(UnpicklingReason::kBadValue, "STACK_GLOBAL requires str");
  stack_.push(resolve_global(text_of(module), text_of(name)));
}

Slot Machine::call(Construction how, const Slot& callable, const Slot& args, const Slot& kwargs) {
  if (callable.kind == Kind::Global) {
    auto it = ctors_.find(callable.node);
    if (it != ctors_.end()) {
      size_t bytes = 0;
      if (!memory_) budget_ = budget_for(reader_.input_extent());
      size_t room = charged_ < budget_ ? budget_ - charged_ : 0;
      std::optional<Slot> native = build_native(*arena_, ctors_, it->second, how, args, kwargs, bytes, room);
      charge(bytes);
      if (native) return *native;
    }
  }
  if (callable.kind != Kind::Global && options_.find_global.opaque_calls() == GlobalAction::kRefuse)
    fail(UnpicklingReason::kForbiddenGlobal, "a call of " + type_name(callable) + " (not a global) is forbidden");
  charge(sizeof(InstanceNode));
  auto* inst = arena_->make<InstanceNode>();
  inst->how = how;
  inst->callable = callable;
  inst->args = args;
  inst->kwargs = kwargs;
  return node_slot(inst);
}

void Machine::reduce() {
  Slot args = stack_.pop();
  Slot callable = stack_.pop();
  if (noload_) {
    stack_.push(Slot());
    return;
  }
  if (args.kind != Kind::Tuple)
    fail(UnpicklingReason::kBadValue, "REDUCE argument list must be a tuple, not '" + type_name(args) + "'");
  if (!maybe_callable(callable))
    fail(UnpicklingReason::kBadValue, "'" + type_name(callable) + "' object is not callable");
  stack_.push(call(Construction::Reduce, callable, args, Slot()));
}

void Machine::newobj() {
  Slot args = stack_.pop();
  Slot cls = stack_.pop();
  if (noload_) {
    stack_.push(Slot());
    return;
  }
  if (args.kind != Kind::Tuple)
    fail(UnpicklingReason::kBadValue, "NEWOBJ expected an arg tuple, not '" + type_name(args) + "'");
  if (!maybe_callable(cls))
    fail(UnpicklingReason::kBadValue, "NEWOBJ class argument isn't a type object: '" + type_name(cls) + "'");
  stack_.push(call(Construction::NewObj, cls, args, Slot()));
}

void Machine::newobj_ex() {
  Slot kwargs = stack_.pop();
  Slot args = stack_.pop();
  Slot cls = stack_.pop();
  if (noload_) {
    stack_.push(Slot());
    return;
  }
  if (args.kind != Kind::Tuple)
    fail(UnpicklingReason::kBadValue, "NEWOBJ_EX args argument must be a tuple, not '" + type_name(args) + "'");
  if (kwargs.kind != Kind::Dict)
    fail(UnpicklingReason::kBadValue, "NEWOBJ_EX kwargs argument must be a dict, not '" + type_name(kwargs) + "'");
  if (!maybe_callable(cls))
    fail(UnpicklingReason::kBadValue, "NEWOBJ_EX class argument isn't a type object: '" + type_name(cls) + "'");
  stack_.push(call(Construction::NewObjEx, cls, args, kwargs));
}

void Machine::inst(std::string_view module, std::string_view name) {
  // pickle.py's load_inst: find_class, then the arguments above the MARK.
  if (!valid_utf8_strict(module) || !valid_utf8_strict(name))
    fail(UnpicklingReason::kBadArgument, "INST module and name must be UTF-8");
  Slot cls = resolve_global(module, name);
  std::span<Slot> items = stack_.pop_mark();
  Slot args = tuple_of(items.data(), items.size());
  if (noload_) {
    stack_.push(Slot());
    return;
  }
  stack_.push(call(Construction::Inst, cls, args, Slot()));
}

void Machine::obj() {
  std::span<Slot> items = stack_.pop_mark();
  if (items.empty()) fail(UnpicklingReason::kStackUnderflow, "OBJ needs a class after the MARK");
  Slot cls = items[0];
  Slot args = tuple_of(items.data() + 1, items.size() - 1);
  if (noload_) {
    stack_.push(Slot());
    return;
  }
  if (!maybe_callable(cls)) fail(UnpicklingReason::kBadValue, "'" + type_name(cls) + "' object is not callable");
  stack_.push(call(Construction::Obj, cls, args, Slot()));
}

void Machine::build() {
  Slot state = stack_.pop();
  Slot& target = stack_.top();
  if (noload_) return;
  if (target.kind == Kind::Instance) {
    auto* inst = static_cast<InstanceNode*>(target.node);
    inst->state = state;
    inst->has_state = true;
    return;
  }
  if (falsy_state(state)) return;
  fail(UnpicklingReason::kBadValue, "BUILD: '" + type_name(target) + "' object has no __dict__ to update");
}

// ---------------------------------------------------------------------------
// Persistent ids, buffers, extensions

void Machine::persistent(const Slot& pid) {
  if (noload_) {
    noload_pids_.push_back(ValueAccess::make(arena_, pid));
    stack_.push(Slot());
    return;
  }
  if (!options_.persistent_load) {
    charge(sizeof(PersistentRefNode));
    stack_.push(node_slot(arena_->make<PersistentRefNode>(pid)));
    return;
  }
  Value result;
  try {
    result = options_.persistent_load(ValueAccess::make(arena_, pid), graph_);
  } catch (const UnpicklingError& e) {
    fail(UnpicklingReason::kBadPersistentId, e.detail());
  }
  stack_.push(slot_in(*arena_, result));
}

void Machine::persid(std::string_view line) {
  // pickle.py: "persistent IDs in protocol 0 must be ASCII strings".
  for (char c : line)
    if (static_cast<unsigned char>(c) >= 0x80)
      fail(UnpicklingReason::kBadArgument, "persistent IDs in protocol 0 must be ASCII strings");
  persistent(text(Kind::Str, line));
}

void Machine::next_buffer() {
  if (noload_) {
    stack_.push(Slot());
    return;
  }
  if (options_.buffers.empty())
    fail(UnpicklingReason::kBadBuffer,
         "pickle stream refers to out-of-band data but no *buffers* argument was given");
  if (next_buffer_ >= options_.buffers.size()) fail(UnpicklingReason::kBadBuffer, "not enough out-of-band buffers");
  const Value& buffer = options_.buffers[next_buffer_++];
  if (ValueAccess::arena(buffer) != arena_ && buffer.has_node()) charge(sizeof(BufferNode) + buffer.size());
  stack_.push(slot_in(*arena_, buffer));
}

void Machine::readonly_buffer() {
  Slot& top = stack_.top();
  if (noload_) return;
  switch (top.kind) {
    case Kind::Bytes: return;  // already read-only
    case Kind::Buffer: {
      auto* b = static_cast<BufferNode*>(top.node);
      if (b->readonly) return;
      charge(sizeof(BufferNode));
      top = node_slot(arena_->make<BufferNode>(b->data, true));
      return;
    }
    case Kind::ByteArray: {
      std::string_view data = static_cast<ByteArrayNode*>(top.node)->data;
      charge(sizeof(BufferNode) + data.size());
      top = node_slot(arena_->make<BufferNode>(arena_->copy_bytes(data), true));
      return;
    }
    default:
      fail(UnpicklingReason::kBadValue, "READONLY_BUFFER needs a buffer, not '" + type_name(top) + "'");
  }
}

void Machine::extension(int64_t code) {
  if (code <= 0) fail(UnpicklingReason::kBadArgument, "EXT specifies code <= 0");
  const ExtensionRegistry::Name* name = options_.extensions ? options_.extensions->name(code) : nullptr;
  if (name == nullptr) fail(UnpicklingReason::kBadArgument, "unregistered extension code " + std::to_string(code));
  // pickle.py's get_extension: find_class on the registered name.
  stack_.push(resolve_global(name->first, name->second));
}

}  // namespace shelf::pickle::internal
