// The Pickler's entry points, dispatcher, memo bookkeeping and encoders
// for scalars, str, bytes, bytearray and buffers. See
// pickle/internal/pickler_impl.h for the overall design.
#include <pthread.h>

#include <stdexcept>
#include <string>

#include "pickle/internal/bigint.h"
#include "pickle/internal/pickler_impl.h"
#include "pickle/pickler.h"
#include "pickle/repr.h"

namespace shelf::pickle {

static_assert(sizeof(internal::TextNode) == 8 + sizeof(std::string_view),
              "Node::memo_mark must live in the padding after Node::kind");

thread_local uint64_t Pickler::Impl::marking_dumps_ = 0;

void Pickler::Impl::dump(const Value& value) {
  uint32_t memo_mark = memo_count_;
  size_t alive_mark = alive_.size();
  try {
    choose_memo_kind();
    if (track_versions_) begin_stale_checks();
    // dumps() need not hold its value: the caller does, for the one dump.
    if (track_alive_) keep_alive(ValueAccess::arena(value));
    arena_ = ValueAccess::arena(value);
    depth_ = 0;
    next_stack_check_ = kStackCheckFrom;
    if (proto_ >= 2) {
      out_.put2(op(Op::PROTO), static_cast<char>(proto_));
      if (proto_ >= 4) out_.start_framing();
    }
    Slot root = ValueAccess::slot(value);
    save(root, false);
    out_.put(op(Op::STOP));
    out_.finish();
    if (track_versions_) end_stale_checks();
  } catch (...) {
    // Forget what this dump memoized: its PUTs never reached a reader
    // whole, so a later dump must not refer to them.
    out_.reset();
    rollback(memo_mark);
    alive_.resize(alive_mark);
    depth_ = 0;
    check_below_ = 0;
    verdicts_.clear();
    throw;
  }
}

void Pickler::Impl::clear_memo() {
  memo_.clear();
  memo_nodes_.clear();
  singletons_.clear();
  named_.clear();
  memo_count_ = 0;
  alive_.clear();
  alive_mutations_.clear();
  memo_versions_.clear();
}

namespace {

// The lowest usable stack address of this thread, found once per thread
// (pthread_getattr_np reads /proc for the main thread: too slow per dump).
uintptr_t stack_low_end() {
  thread_local uintptr_t low = [] {
    pthread_attr_t attr;
    void* addr = nullptr;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      pthread_attr_getstack(&attr, &addr, &size);
      pthread_attr_destroy(&attr);
    }
    return reinterpret_cast<uintptr_t>(addr);
  }();
  return low;
}

}  // namespace

void Pickler::Impl::check_stack() {
  // Room for the deepest save() chain between two checks, with sanitizers'
  // larger frames, plus whatever the caller's hooks need.
  constexpr uintptr_t kMargin = 512 * 1024;
  next_stack_check_ = depth_ + kStackCheckEvery;
  uintptr_t low = stack_low_end();
  auto here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  if (low != 0 && here < low + kMargin) {
    fail("nesting depth " + std::to_string(depth_) + " exhausts the thread's stack while pickling an object");
  }
}

void Pickler::Impl::keep_alive(internal::Arena* arena) {
  if (arena == nullptr) return;
  for (const Graph& g : alive_)
    if (ValueAccess::arena(g) == arena) return;
  alive_.push_back(ValueAccess::graph(arena));
}

void Pickler::Impl::choose_memo_kind() {
  if (memo_count_ == 0) {
    // Empty memo, empty table: marks will do unless a hook could run
    // another Pickler on this graph in the middle of the dump.
    use_marks_ = !has_hooks_;
    memo_nodes_.clear();
  } else if (use_marks_) {
    // Entries of earlier dumps: other dumps may have marked their nodes since.
    move_memo_to_table();
  }
  if (use_marks_ && guard_marks_) marking_dump_ = ++marking_dumps_;
  short_str_inline_ = use_marks_ && bin_ && !track_versions_;
}

void Pickler::Impl::move_memo_to_table() {
  memo_.reserve(memo_nodes_.size());
  for (uint32_t i = 0; i < memo_nodes_.size(); ++i)
    if (memo_nodes_[i] != nullptr) memo_.insert(memo_nodes_[i], i);
  memo_nodes_.clear();
  use_marks_ = false;
  short_str_inline_ = false;
}

void Pickler::Impl::rollback(uint32_t first) {
  if (memo_count_ == first) return;
  if (use_marks_) memo_nodes_.truncate(first);
  memo_.truncate(first);
  singletons_.truncate(first);
  std::erase_if(named_, [first](const auto& kv) { return kv.second >= first; });
  memo_count_ = first;
  // Objects this dump began to write again keep their earlier entries: the
  // reader still holds them there, and they are still stale.
  for (auto [node, old_index] : rewritten_) memo_.insert(node, old_index);
  rewritten_.clear();
  if (memo_versions_.size() > first) memo_versions_.resize(first);
}

void Pickler::Impl::save_str(const Slot& s) {
  auto* node = static_cast<const TextNode*>(s.node);
  std::string_view data = node->data;
  size_t n = data.size();
  if (n <= 2 && str_singleton(data) != kNotSingleton) [[unlikely]]
    return save_object(s);  // memoized by value
  if (!short_str_inline_ || n > 0xFF) [[unlikely]]
    return save_object(s);
  uint32_t mark = node->memo_mark;
  if (memo_nodes_.holds(mark, node)) return emit_get(mark);
  if (marks_overwritten() || memo_count_ == kMissing) [[unlikely]]
    return save_object(s);
  memo_nodes_.push(node);
  node->memo_mark = memo_count_;
  uint32_t index = memo_count_++;
  // SHORT_BINUNICODE (4+) or BINUNICODE, the text, the PUT.
  char* p = out_.room(kMaxStrHeader + n + kMaxBinaryPut);
  size_t header = put_str_header(p, n);
  PickleOutput::copy_short(p + header, data.data(), n);
  out_.advance(header + n + put_binary_put(p + header + n, index));
}

void Pickler::Impl::save_object(const Slot& s) {
  switch (s.kind) {
    case Kind::Int:
      return save_bigint(static_cast<const BigIntNode*>(s.node)->bytes);
    // The commonest kinds are memoized before anything else can be: one
    // probe of the memo finds them or reserves their entry.
    case Kind::Str: {
      std::string_view data = static_cast<const TextNode*>(s.node)->data;
      if (str_singleton(data) != kNotSingleton) break;
      uint32_t index = reserve_memo(s.node);
      if (index == kMissing) return;
      save_str_data(data);
      return emit_put(index);
    }
    case Kind::List: {
      uint32_t index = reserve_memo(s.node);
      if (index != kMissing) save_list(s, index);
      return;
    }
    case Kind::Dict: {
      uint32_t index = reserve_memo(s.node);
      if (index != kMissing) save_dict(s, index);
      return;
    }
    default:
      break;
  }
  uint32_t index = lookup(s);
  if (index != kMissing) {
    if (index >= check_below_) [[likely]]
      return emit_get(index);
    if (!forget_if_stale(s.node, index)) return emit_get(index);
  }
  switch (s.kind) {
    case Kind::Str:
      save_str_data(static_cast<const TextNode*>(s.node)->data);
      return memoize(s);
    case Kind::Bytes:
      return save_bytes(static_cast<const TextNode*>(s.node)->data, &s);
    case Kind::Tuple:
      return save_tuple(s);
    case Kind::Set:
      return save_set(s);
    case Kind::FrozenSet:
      return save_frozenset(s);
    case Kind::Complex:
      return save_complex(s);
    case Kind::ByteArray:
      return save_bytearray(s);
    case Kind::Global: {
      auto* g = static_cast<const GlobalNode*>(s.node);
      return save_global_named(g->module, g->name);
    }
    case Kind::Instance:
      return save_instance(s);
    case Kind::PersistentRef: {
      DepthGuard guard(*this);
      return save_pers(static_cast<const PersistentRefNode*>(s.node)->pid, arena_);
    }
    case Kind::Buffer:
      return save_buffer(s);
    default:
      fail("cannot pickle a value of kind " + std::string(kind_name(s.kind)));
  }
}

bool Pickler::Impl::ask_persistent_id(const Slot& s) {
  std::optional<Value> pid;
  try {
    pid = options_.persistent_id(ValueAccess::make(arena_, s));
  } catch (const PickleError&) {
    throw;
  } catch (const std::exception& e) {
    fail(std::string("persistent_id hook failed: ") + e.what());
  }
  if (!pid) return false;
  DepthGuard guard(*this);
  save_pers(ValueAccess::slot(*pid), ValueAccess::arena(*pid), &*pid);
  return true;
}

void Pickler::Impl::save_pers(const Slot& pid, internal::Arena* pid_arena, const Value* holder) {
  if (bin_) {
    internal::Arena* saved = arena_;
    if (pid_arena != nullptr) {
      keep_alive(pid_arena);
      arena_ = pid_arena;
    }
    save(pid, true);
    arena_ = saved;
    out_.put(op(Op::BINPERSID));
    return;
  }
  std::string text = persistent_id_text(pid, pid_arena, holder);
  if (!is_ascii(text)) fail("persistent IDs in protocol 0 must be ASCII strings");
  if (text.find('\n') != std::string::npos) fail("persistent IDs in protocol 0 must not contain a newline");
  out_.put(op(Op::PERSID));
  out_.put(text);
  out_.put('\n');
}

std::string Pickler::Impl::big_int_decimal(std::string_view le) {
  size_t limit = options_.max_int_digits;
  auto refuse = [&] {
    fail("Exceeds the limit (" + std::to_string(limit) +
         " digits) for integer string conversion; use sys.set_int_max_str_digits() to increase the limit");
  };
  // Decimal conversion is quadratic: refuse what is surely too long before
  // converting (8 * log10(2) > 2.4 digits per byte, less one for the sign).
  if (limit != 0 && le.size() > 1 && (le.size() - 1) * 24 / 10 > limit) refuse();
  std::string text = internal::BigInt::from_le(le).to_decimal();
  size_t digits = text.size() - (text.front() == '-' ? 1 : 0);
  if (limit != 0 && digits > limit) refuse();
  return text;
}

std::string Pickler::Impl::persistent_id_text(const Slot& pid, internal::Arena* arena, const Value* holder) {
  switch (pid.kind) {
    case Kind::Str:
      return std::string(static_cast<const TextNode*>(pid.node)->data);
    case Kind::Int:
      if (!pid.is_big) return std::to_string(pid.i);
      return big_int_decimal(static_cast<const BigIntNode*>(pid.node)->bytes);
    case Kind::Bool:
      return pid.b ? "True" : "False";
    case Kind::None:
      return "None";
    case Kind::Float:
      return internal::python_float_repr(pid.f);
    default:
      return repr(holder != nullptr ? *holder : ValueAccess::make(arena, pid));
  }
}

void Pickler::Impl::save_bigint(std::string_view le) {
  if (proto_ >= 2) {
    char header[5];
    size_t n = le.size();
    if (n < 256) {
      header[0] = op(Op::LONG1);
      header[1] = static_cast<char>(n);
      out_.put(header, 2);
    } else {
      if (n > INT32_MAX) fail("int too large to pickle");
      header[0] = op(Op::LONG4);
      put_le(header + 1, n, 4);
      out_.put(header, 5);
    }
    return out_.put(le);
  }
  std::string text = big_int_decimal(le);
  out_.put(op(Op::LONG));
  out_.put(text);
  out_.put2('L', '\n');
}

void Pickler::Impl::save_str_data(std::string_view utf8) {
  if (!bin_) return put_unicode_line(utf8, /*latin1=*/false);
  if (utf8.size() > 0xFFFFFFFFu && proto_ < 4)
    fail("serializing a string larger than 4 GiB requires pickle protocol 4 or higher");
  char header[kMaxStrHeader];
  out_.put_with_payload(header, put_str_header(header, utf8.size()), utf8);
}

void Pickler::Impl::put_unicode_line(std::string_view text, bool latin1) {
  std::string line;
  line.reserve(text.size() + 2);
  line += op(Op::UNICODE);
  if (latin1) {
    internal::append_raw_unicode_escape_latin1(line, text);
  } else {
    internal::append_raw_unicode_escape(line, text);
  }
  line += '\n';
  out_.put(line);
}

void Pickler::Impl::save_helper_str(std::string_view utf8) {
  out_.opcode_boundary();
  size_t i = str_singleton(utf8);
  if (i != kNotSingleton && singletons_.get(i) != kMissing) return emit_get(singletons_.get(i));
  save_str_data(utf8);
  if (i != kNotSingleton) {
    uint32_t index = next_memo_index();
    singletons_.set(i, index);
    return emit_put(index);
  }
  memoize_fresh();
}

void Pickler::Impl::save_interned_str(std::string_view utf8) {
  out_.opcode_boundary();
  if (str_singleton(utf8) != kNotSingleton) return save_helper_str(utf8);
  std::string key = "s";
  key += utf8;
  auto it = named_.find(key);
  if (it != named_.end()) return emit_get(it->second);
  save_str_data(utf8);
  uint32_t index = next_memo_index();
  named_.emplace(std::move(key), index);
  emit_put(index);
}

void Pickler::Impl::save_bytes(std::string_view data, const Slot* obj) {
  size_t single = obj != nullptr ? bytes_singleton(data) : kNotSingleton;
  if (proto_ < 3 && options_.python2_str) {
    save_python2_str(data);
  } else if (proto_ < 3) {
    // CPython 3 writes bytes as _codecs.encode(text, 'latin1') (or
    // bytes() for b''), which Python 2 also loads, as str.
    if (data.empty()) {
      save_global_named("builtins", "bytes");
      save_empty_tuple();
    } else {
      save_global_named("_codecs", "encode");
      save_helper_tuple(2, [&] {
        if (!bin_ && data.size() >= 2) {
          // Protocol 0's UNICODE is the text's Latin-1 with five bytes
          // escaped: straight from the bytes, no UTF-8 between. Two or
          // more characters are never a memoized singleton.
          out_.opcode_boundary();
          put_unicode_line(data, /*latin1=*/true);
          memoize_fresh();
        } else {
          save_helper_str(internal::latin1_to_utf8(data));
        }
        save_interned_str("latin1");
      });
    }
    return finish_reduce(obj, single);
  } else {
    save_bytes_data(data);
  }
  memoize_bytes(obj, single);
}

void Pickler::Impl::memoize_bytes(const Slot* obj, size_t single) {
  if (obj != nullptr) return memoize(*obj);
  if (single != kNotSingleton) {
    uint32_t index = next_memo_index();
    singletons_.set(single, index);
    return emit_put(index);
  }
  memoize_fresh();
}

void Pickler::Impl::save_bytes_data(std::string_view data) {
  char header[9];
  size_t n = data.size();
  if (n <= 0xFF) {
    header[0] = op(Op::SHORT_BINBYTES);
    header[1] = static_cast<char>(n);
    return out_.put_with_payload(header, 2, data);
  }
  if (n <= 0xFFFFFFFFu) {
    header[0] = op(Op::BINBYTES);
    put_le(header + 1, n, 4);
    return out_.put_with_payload(header, 5, data);
  }
  if (proto_ < 4) fail("serializing a bytes object larger than 4 GiB requires pickle protocol 4 or higher");
  header[0] = op(Op::BINBYTES8);
  put_le(header + 1, n, 8);
  out_.put_with_payload(header, 9, data);
}

void Pickler::Impl::save_bytearray(const Slot& s) {
  auto* node = static_cast<const internal::ByteArrayNode*>(s.node);
  std::string_view data = node->data;
  if (proto_ >= 5) {
    save_bytearray_data(data);
    return memoize(s);
  }
  DepthGuard guard(*this);
  save_global_named("builtins", "bytearray");
  if (data.empty()) {
    save_empty_tuple();
  } else {
    std::string copy(data);  // the bytes object CPython makes from it
    save_helper_tuple(1, [&] {
      out_.opcode_boundary();
      save_bytes(copy, nullptr);
    });
  }
  finish_reduce(&s);
}

void Pickler::Impl::save_bytearray_data(std::string_view data) {
  char header[9];
  header[0] = op(Op::BYTEARRAY8);
  put_le(header + 1, data.size(), 8);
  out_.put_with_payload(header, 9, data);
}

void Pickler::Impl::save_buffer(const Slot& s) {
  auto* node = static_cast<const BufferNode*>(s.node);
  if (proto_ < 5) fail("PickleBuffer can only be pickled with protocol >= 5");
  bool in_band = true;
  if (options_.buffer_callback) {
    try {
      in_band = options_.buffer_callback(ValueAccess::make(arena_, s));
    } catch (const PickleError&) {
      throw;
    } catch (const std::exception& e) {
      fail(std::string("buffer_callback failed: ") + e.what());
    }
  }
  if (in_band) {
    if (node->readonly) {
      save_bytes_data(node->data);
    } else {
      save_bytearray_data(node->data);
    }
    return memoize(s);
  }
  out_.put(op(Op::NEXT_BUFFER));
  if (node->readonly) out_.put(op(Op::READONLY_BUFFER));
}

void Pickler::Impl::save_empty_tuple() {
  out_.opcode_boundary();
  if (bin_) return out_.put(op(Op::EMPTY_TUPLE));
  out_.put2(op(Op::MARK), op(Op::TUPLE));
}

namespace {

void check_options(const PicklerOptions& options) {
  if (options.protocol > kHighestProtocol) {
    throw std::invalid_argument("pickle protocol must be <= " + std::to_string(kHighestProtocol));
  }
  int proto = options.protocol < 0 ? kHighestProtocol : options.protocol;
  if (options.buffer_callback && proto < 5) {
    throw std::invalid_argument("buffer_callback needs protocol >= 5");
  }
}

}  // namespace

Pickler::Pickler(Sink& sink, PicklerOptions options) : options_(std::move(options)) {
  check_options(options_);
  impl_ = std::make_unique<Impl>(&sink, options_);
}

Pickler::~Pickler() = default;

void Pickler::dump(const Value& value) { impl_->dump(value); }

void Pickler::clear_memo() { impl_->clear_memo(); }

int Pickler::protocol() const { return impl_->protocol(); }

std::string dumps(const Value& value, const PicklerOptions& options) {
  // No sink: the pickle is built in the output buffer and moved out whole.
  check_options(options);
  Pickler::Impl impl(nullptr, options);
  impl.dump(value);
  return impl.take_output();
}

}  // namespace shelf::pickle
