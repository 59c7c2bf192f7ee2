// pickle/unpickler.cc: the opcode loop. The grammar it reads is
// docs/format.md ("The pickle stream"); the opcode table is pickle/opcodes.def, and each
// argument is read by its ArgKind's reader in pickle/args.h (shared with
// dis). The hot opcodes are handled inline here; the rest live in
// unpickler_ops.cc.
//
// Handlers only say what went wrong (DecodeFailure); run_one() is the one
// place that adds the opcode's offset and name.
#include "pickle/unpickler.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>

#include "pickle/internal/unpickler_machine.h"

namespace shelf::pickle {
namespace internal {
namespace {

size_t saturating_mul(size_t a, size_t b) {
  size_t out;
  if (__builtin_mul_overflow(a, b, &out)) return std::numeric_limits<size_t>::max();
  return out;
}

size_t saturating_add(size_t a, size_t b) {
  size_t out;
  if (__builtin_add_overflow(a, b, &out)) return std::numeric_limits<size_t>::max();
  return out;
}

std::string invalid_load_key(uint8_t code) {
  static const char kHex[] = "0123456789abcdef";
  std::string key;
  if (code >= 0x20 && code < 0x7f && code != '\'' && code != '\\') {
    key = static_cast<char>(code);
  } else {
    key = std::string("\\x") + kHex[code >> 4] + kHex[code & 15];
  }
  return "invalid load key, '" + key + "'.";
}

}  // namespace

// ---------------------------------------------------------------------------
// SlotStack

SlotStack::SlotStack() {
  base_ = sp_ = reinterpret_cast<Slot*>(inline_);
  update_limit();
}

void SlotStack::configure(size_t max_depth) {
  max_depth_ = max_depth;
  update_limit();
}

void SlotStack::clear() {
  sp_ = base_;
  marks_.clear();
  fence_ = 0;
  update_limit();
}

void SlotStack::grow() {
  size_t n = size();
  size_t room = max_depth_ > marks_.size() ? max_depth_ - marks_.size() : 0;
  if (n >= room) depth_exceeded();
  size_t capacity = std::min(std::max(capacity_ * 2, n + 1), room);
  if (heap_.empty()) {
    heap_.resize(capacity);
    std::copy(base_, base_ + n, heap_.data());
  } else {
    heap_.resize(capacity);
  }
  capacity_ = capacity;
  base_ = heap_.data();
  sp_ = base_ + n;
  update_limit();
}

void SlotStack::underflow() const {
  fail(UnpicklingReason::kStackUnderflow, marks_.empty() ? "unpickling stack underflow" : "unexpected MARK found");
}

void SlotStack::depth_exceeded() const {
  fail(UnpicklingReason::kLimitExceeded,
       "stack depth limit exceeded (" + std::to_string(max_depth_) + " items and MARKs)");
}

void SlotStack::no_mark() { fail(UnpicklingReason::kNoMark, "could not find MARK"); }

void SlotStack::pop_item_or_mark() {
  // As _pickle.c's load_pop: a MARK with nothing above it is what POP pops.
  if (!marks_.empty() && marks_.back() == size()) {
    pop_mark();
    return;
  }
  pop();
}

// ---------------------------------------------------------------------------
// Memo

void Memo::clear() {
  dense_size_ = 0;
  sparse_.clear();
  count_ = 0;
}

void Memo::grow_dense(size_t capacity) {
  capacity = std::max(capacity, 2 * dense_capacity_);
  std::unique_ptr<Slot[], BlockDeleter> bigger(static_cast<Slot*>(block_allocate(capacity * sizeof(Slot))),
                                               BlockDeleter(capacity * sizeof(Slot)));
  std::memcpy(static_cast<void*>(bigger.get()), dense_, dense_size_ * sizeof(Slot));
  heap_ = std::move(bigger);
  dense_ = heap_.get();
  dense_capacity_ = capacity;
}

void Memo::resize_dense(size_t size) {
  if (size > dense_capacity_) grow_dense(size);
  Slot hole;
  hole.is_big = true;  // missing(): None with is_big
  std::fill(dense_ + dense_size_, dense_ + size, hole);
  dense_size_ = size;
}

const Slot* Memo::get_sparse(uint64_t key) const {
  auto it = sparse_.find(key);
  return it == sparse_.end() ? nullptr : &it->second;
}

size_t Memo::put_slow(uint64_t key, const Slot& s) {
  if (key < dense_size_) {
    if (missing(dense_[key])) ++count_;
    dense_[key] = s;
    return 0;
  }
  if (key == dense_size_ && sparse_.empty()) {  // the next key, with the dense part full
    grow_dense(dense_size_ + 1);
    dense_[dense_size_++] = s;
    ++count_;
    return sizeof(Slot);
  }
  if (auto it = sparse_.find(key); it != sparse_.end()) {
    it->second = s;
    return 0;
  }
  ++count_;
  // Dense while the keys stay within twice the entries (plus a little), so
  // the vector never outgrows what the input paid for.
  if (key < 2 * count_ + 1024) {
    size_t old = dense_size_;
    resize_dense(key + 1);
    dense_[key] = s;
    std::erase_if(sparse_, [&](const auto& kv) {
      if (kv.first >= dense_size_) return false;
      dense_[kv.first] = kv.second;
      return true;
    });
    return (dense_size_ - old) * sizeof(Slot);
  }
  sparse_.emplace(key, s);
  return 4 * sizeof(Slot);
}

// ---------------------------------------------------------------------------
// Machine: set-up

Machine::Machine(Source& source, const UnpicklerOptions& options)
    : source_(source),
      options_(options),
      graph_(options_.into ? *options_.into : Graph()),
      arena_(ValueAccess::arena(graph_)),
      reader_(source.remaining() ? nullptr : &source),
      memory_(source.remaining().has_value()) {
  stack_.configure(options_.limits.max_depth);
}

size_t Machine::budget_for(size_t extent) const {
  const Limits& l = options_.limits;
  return saturating_add(saturating_mul(l.memory_ratio, saturating_add(consumed_before_, extent)), l.memory_slack);
}

void Machine::over_budget() {
  if (!memory_) budget_ = budget_for(reader_.input_extent());
  if (charged_ <= budget_) return;
  fail(UnpicklingReason::kLimitExceeded, "loaded values would hold about " + std::to_string(charged_) +
                                             " bytes, over the memory limit of " + std::to_string(budget_) +
                                             " bytes for this input");
}

void Machine::begin() {
  stack_.clear();
  proto_ = 0;
  if (memory_) {
    reader_.restart(*source_.remaining());
  } else {
    reader_.restart();
  }
  uint64_t max_ops = options_.limits.max_ops;
  ops_left_ = max_ops == 0 ? std::numeric_limits<uint64_t>::max() : max_ops + 1;
  budget_ = budget_for(reader_.input_extent());
  // Picklers memoize about one object per 10-20 bytes: room for that up
  // front saves the memo's regrowth on big inputs.
  if (memory_) memo_.reserve(std::min(reader_.input_extent() / 16, size_t{1} << 20));
  op_offset_ = 0;
  op_code_ = -1;
}

void Machine::end() {
  size_t n = reader_.tell();
  if (memory_) source_.consume(n);
  position_ += n;
  consumed_before_ += n;
  stack_.clear();
}

Value Machine::load() {
  begin();
  noload_ = false;
  Slot s;
  try {
    s = run_one<false>();
  } catch (...) {
    // A stream has consumed what it read; memory stays where it was, so
    // position() keeps naming the end of the last good pickle.
    if (!memory_) position_ += reader_.tell();
    stack_.clear();
    throw;
  }
  end();
  return ValueAccess::make(arena_, s);
}

NoloadResult Machine::noload() {
  begin();
  noload_ = true;
  noload_pids_.clear();
  try {
    run_one<true>();
  } catch (...) {
    if (!memory_) position_ += reader_.tell();
    stack_.clear();
    noload_ = false;
    throw;
  }
  noload_ = false;
  NoloadResult result;
  result.persistent_ids = std::move(noload_pids_);
  noload_pids_.clear();
  result.protocol = proto_;
  result.bytes_read = reader_.tell();
  end();
  return result;
}

template <bool kNoload>
Slot Machine::run_one() {
  try {
    return run<kNoload>();
  } catch (const DecodeFailure& f) {
    std::optional<Op> op = op_code_ < 0 ? std::nullopt : op_from_byte(static_cast<uint8_t>(op_code_));
    throw UnpicklingError(f.reason(), f.detail(), op_offset_, op);
  } catch (const ValueError& e) {
    // Hashing a key nested past the value graph's depth bound.
    std::optional<Op> op = op_code_ < 0 ? std::nullopt : op_from_byte(static_cast<uint8_t>(op_code_));
    throw UnpicklingError(UnpicklingReason::kBadValue, e.what(), op_offset_, op);
  }
}

// ---------------------------------------------------------------------------
// Hot builders

Slot Machine::text(Kind kind, std::string_view data) {
  if (!borrowable_.empty()) {
    auto at = reinterpret_cast<uintptr_t>(data.data());
    auto begin = reinterpret_cast<uintptr_t>(borrowable_.data());
    if (!data.empty() && data.size() <= borrowable_.size() && at >= begin &&
        at - begin <= borrowable_.size() - data.size()) {
      if (borrow_owner_) arena_->hold(std::move(borrow_owner_));
      charge(sizeof(TextNode));
      return node_slot(arena_->make<TextNode>(kind, data));
    }
  }
  charge(sizeof(TextNode) + data.size());
  std::string_view copy = arena_->copy_bytes(data);
  return node_slot(arena_->make<TextNode>(kind, copy));
}

Slot Machine::empty_tuple() {
  // One () per Unpickler, as CPython shares its empty tuple.
  if (!have_empty_tuple_) {
    empty_tuple_ = node_slot(arena_->make<TupleNode>(nullptr, 0));
    have_empty_tuple_ = true;
  }
  return empty_tuple_;
}

Slot Machine::tuple_of(const Slot* items, size_t n) {
  if (n == 0) return empty_tuple();
  if (n > std::numeric_limits<uint32_t>::max()) fail(UnpicklingReason::kLimitExceeded, "tuple too large");
  charge(sizeof(TupleNode) + n * sizeof(Slot));
  auto* mem = static_cast<Slot*>(arena_->allocate(n * sizeof(Slot), alignof(Slot)));
  std::uninitialized_copy(items, items + n, mem);
  return node_slot(arena_->make<TupleNode>(mem, static_cast<uint32_t>(n)));
}

[[gnu::always_inline]] inline void Machine::memo_get(uint64_t key) {
  const Slot* s = memo_.get(key);
  if (s == nullptr) [[unlikely]]
    fail(UnpicklingReason::kMemoMissing, "memo key " + std::to_string(key) + " was never stored");
  stack_.push(*s);
}

[[gnu::always_inline]] inline void Machine::memo_put(uint64_t key) {
  charge(memo_.put(key, stack_.top()));
  if (memo_.size() > options_.limits.max_memo) [[unlikely]]
    fail(UnpicklingReason::kLimitExceeded,
         "memo limit exceeded (" + std::to_string(options_.limits.max_memo) + " entries)");
}

// ---------------------------------------------------------------------------
// The loop

#define CASE(name) case static_cast<uint8_t>(Op::name)

template <bool kNoload>
Slot Machine::run() {
  FramedReader& in = reader_;
  const size_t max_digits = options_.limits.max_int_digits;
  for (;;) {
    op_offset_ = in.tell();
    op_code_ = -1;
    const auto code = static_cast<uint8_t>(*in.take(1));
    op_code_ = code;
    if (--ops_left_ == 0) [[unlikely]]
      fail(UnpicklingReason::kLimitExceeded,
           "opcode limit exceeded (" + std::to_string(options_.limits.max_ops) + " per load)");
    switch (code) {
      // --- stack and control
      CASE(MARK) : stack_.mark(); break;
      CASE(STOP) : return stack_.pop();
      CASE(POP) : stack_.pop_item_or_mark(); break;
      CASE(POP_MARK) : stack_.pop_mark(); break;
      CASE(DUP) : {
        Slot s = stack_.top();
        stack_.push(s);
        break;
      }
      CASE(PROTO) : proto(read_uint1(in)); break;
      CASE(FRAME) : in.begin_frame(read_uint8(in)); break;

      // --- constants and numbers
      CASE(NONE) : stack_.push(Slot()); break;
      CASE(NEWTRUE) : stack_.push(bool_slot(true)); break;
      CASE(NEWFALSE) : stack_.push(bool_slot(false)); break;
      CASE(INT) : {
        DecimalArg d = read_int_text(in, scratch_, max_digits);
        stack_.push(d.is_bool ? bool_slot(d.value != 0) : d.fits ? int_slot(d.value) : decimal_int(d));
        break;
      }
      CASE(BININT) : stack_.push(int_slot(read_int4(in))); break;
      CASE(BININT1) : stack_.push(int_slot(read_uint1(in))); break;
      CASE(BININT2) : stack_.push(int_slot(read_uint2(in))); break;
      CASE(LONG) : {
        DecimalArg d = read_long_text(in, scratch_, max_digits);
        stack_.push(d.fits ? int_slot(d.value) : decimal_int(d));
        break;
      }
      CASE(LONG1) : stack_.push(long_le(read_long1(in))); break;
      CASE(LONG4) : stack_.push(long_le(read_long4(in))); break;
      CASE(FLOAT) : stack_.push(float_slot(read_float_text(in))); break;
      CASE(BINFLOAT) : stack_.push(float_slot(read_float8(in))); break;

      // --- strings
      CASE(STRING) : stack_.push(python2_str(read_stringnl(in, scratch_))); break;
      CASE(BINSTRING) : stack_.push(python2_str(read_string4(in))); break;
      CASE(SHORT_BINSTRING) : stack_.push(python2_str(read_string1(in))); break;
      CASE(BINBYTES) : stack_.push(text(Kind::Bytes, read_bytes4(in))); break;
      CASE(SHORT_BINBYTES) : stack_.push(text(Kind::Bytes, read_bytes1(in))); break;
      CASE(BINBYTES8) : stack_.push(text(Kind::Bytes, read_bytes8(in))); break;
      CASE(BYTEARRAY8) : {
        std::string_view data = read_bytearray8(in);
        if constexpr (kNoload) {
          stack_.push(Slot());
        } else {
          charge(sizeof(ByteArrayNode) + data.size());
          stack_.push(node_slot(arena_->make<ByteArrayNode>(data)));
        }
        break;
      }
      CASE(UNICODE) : stack_.push(text(Kind::Str, read_unicodestringnl(in, scratch_))); break;
      CASE(SHORT_BINUNICODE) : stack_.push(text(Kind::Str, read_unicodestring1(in))); break;
      CASE(BINUNICODE) : stack_.push(text(Kind::Str, read_unicodestring4(in))); break;
      CASE(BINUNICODE8) : stack_.push(text(Kind::Str, read_unicodestring8(in))); break;

      // --- containers
      CASE(EMPTY_TUPLE) : stack_.push(empty_tuple()); break;
      CASE(TUPLE) : {
        std::span<Slot> items = stack_.pop_mark();
        stack_.push(tuple_of(items.data(), items.size()));
        break;
      }
      CASE(TUPLE1) : {
        Slot* items = stack_.pop_n(1);
        stack_.push(tuple_of(items, 1));
        break;
      }
      CASE(TUPLE2) : {
        Slot* items = stack_.pop_n(2);
        stack_.push(tuple_of(items, 2));
        break;
      }
      CASE(TUPLE3) : {
        Slot* items = stack_.pop_n(3);
        stack_.push(tuple_of(items, 3));
        break;
      }
      CASE(EMPTY_LIST) : {
        if constexpr (kNoload) {
          stack_.push(Slot());
        } else {
          charge(sizeof(ListNode));
          stack_.push(node_slot(arena_->make<ListNode>()));
        }
        break;
      }
      CASE(EMPTY_DICT) : {
        if constexpr (kNoload) {
          stack_.push(Slot());
        } else {
          charge(sizeof(HashNode));
          stack_.push(node_slot(arena_->make<HashNode>(Kind::Dict)));
        }
        break;
      }
      CASE(EMPTY_SET) : {
        if constexpr (kNoload) {
          stack_.push(Slot());
        } else {
          charge(sizeof(HashNode));
          stack_.push(node_slot(arena_->make<HashNode>(Kind::Set)));
        }
        break;
      }
      CASE(LIST) : list(); break;
      CASE(DICT) : dict(); break;
      CASE(FROZENSET) : frozenset(); break;
      CASE(APPEND) : append(); break;
      CASE(APPENDS) : appends(); break;
      CASE(SETITEM) : setitem(); break;
      CASE(SETITEMS) : setitems(); break;
      CASE(ADDITEMS) : additems(); break;

      // --- memo
      CASE(GET) : {
        DecimalArg d = read_memo_key_text(in, scratch_, max_digits);
        if (!d.fits || d.negative)
          fail(UnpicklingReason::kMemoMissing,
               "memo key " + std::string(d.negative ? "-" : "") + std::string(d.fits ? std::to_string(-d.value) : d.digits) +
                   " was never stored");
        memo_get(static_cast<uint64_t>(d.value));
        break;
      }
      CASE(BINGET) : memo_get(read_uint1(in)); break;
      CASE(LONG_BINGET) : memo_get(read_uint4(in)); break;
      CASE(PUT) : {
        DecimalArg d = read_memo_key_text(in, scratch_, max_digits);
        if (d.negative) fail(UnpicklingReason::kBadArgument, "negative PUT argument");
        if (!d.fits) fail(UnpicklingReason::kBadArgument, "PUT argument too large");
        memo_put(static_cast<uint64_t>(d.value));
        break;
      }
      CASE(BINPUT) : memo_put(read_uint1(in)); break;
      CASE(LONG_BINPUT) : memo_put(read_uint4(in)); break;
      CASE(MEMOIZE) : memo_put(memo_.size()); break;

      // --- globals, objects, persistent ids, buffers
      CASE(GLOBAL) : {
        auto [module, name] = read_stringnl_noescape_pair(in, scratch_);
        global(module, name);
        break;
      }
      CASE(STACK_GLOBAL) : stack_global(); break;
      CASE(INST) : {
        auto [module, name] = read_stringnl_noescape_pair(in, scratch_);
        inst(module, name);
        break;
      }
      CASE(OBJ) : obj(); break;
      CASE(REDUCE) : reduce(); break;
      CASE(NEWOBJ) : newobj(); break;
      CASE(NEWOBJ_EX) : newobj_ex(); break;
      CASE(BUILD) : build(); break;
      CASE(EXT1) : extension(read_uint1(in)); break;
      CASE(EXT2) : extension(read_uint2(in)); break;
      CASE(EXT4) : extension(read_int4(in)); break;
      CASE(PERSID) : persid(read_stringnl_noescape(in)); break;
      CASE(BINPERSID) : persistent(stack_.pop()); break;
      CASE(NEXT_BUFFER) : next_buffer(); break;
      CASE(READONLY_BUFFER) : readonly_buffer(); break;

      default:
        fail(UnpicklingReason::kUnknownOpcode, invalid_load_key(code));
    }
  }
}

#undef CASE

template Slot Machine::run_one<false>();
template Slot Machine::run_one<true>();

}  // namespace internal

// ---------------------------------------------------------------------------
// Public API

namespace {

// A base before the machine: the options it refers to are built first.
struct UnpicklerOptionsHolder {
  UnpicklerOptions options;
};

}  // namespace

class Unpickler::Impl : private UnpicklerOptionsHolder, public internal::Machine {
 public:
  Impl(Source& source, UnpicklerOptions options)
      : UnpicklerOptionsHolder{std::move(options)}, Machine(source, UnpicklerOptionsHolder::options) {}
};

Unpickler::Unpickler(Source& source, UnpicklerOptions options)
    : impl_(std::make_unique<Impl>(source, std::move(options))) {}
Unpickler::~Unpickler() = default;

Value Unpickler::load() { return impl_->load(); }
NoloadResult Unpickler::noload() { return impl_->noload(); }
Graph Unpickler::graph() const { return impl_->graph(); }
size_t Unpickler::position() const { return impl_->position(); }

Value loads(std::string_view data, const UnpicklerOptions& options) {
  // The machine of an Unpickler, on the stack: nothing outlives the call.
  MemorySource source(data);
  internal::Machine machine(source, options);
  return machine.load();
}

Value loads_borrowing(std::string_view data, std::shared_ptr<const void> owner, const UnpicklerOptions& options) {
  MemorySource source(data);
  internal::Machine machine(source, options);
  if (owner) machine.borrow(data, std::move(owner));
  return machine.load();
}

}  // namespace shelf::pickle
