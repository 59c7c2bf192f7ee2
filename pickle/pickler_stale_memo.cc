// The Pickler's stale-memo checks (PicklerOptions::stale_memo): finding,
// at a memo hit on an object an earlier dump() wrote, whether the object or
// anything it reaches has been mutated since. See "stale memo entries" in
// pickle/internal/pickler_impl.h and docs/session.md ("Stream sessions").
#include <string>

#include "pickle/internal/pickler_impl.h"

namespace shelf::pickle {

namespace {

const Slot kNoneSlot{};

// Child `i` of a node, in a fixed order, or nullptr past the last one.
// Erased hash entries read as None. A PersistentRef's child is its pid,
// which an earlier dump wrote (and memoized) too.
const Slot* nth_child(const Node* node, size_t i) {
  switch (node->kind) {
    case Kind::Tuple: {
      auto* t = static_cast<const TupleNode*>(node);
      return i < t->size ? &t->items[i] : nullptr;
    }
    case Kind::List: {
      const auto& items = static_cast<const ListNode*>(node)->items;
      return i < items.size() ? &items[i] : nullptr;
    }
    case Kind::Dict: {
      const auto& entries = static_cast<const HashNode*>(node)->table.entries;
      if (i / 2 >= entries.size()) return nullptr;
      const auto& e = entries[i / 2];
      if (e.erased) return &kNoneSlot;
      return i % 2 == 0 ? &e.key : &e.value;
    }
    case Kind::Set:
    case Kind::FrozenSet: {
      const auto& entries = static_cast<const HashNode*>(node)->table.entries;
      if (i >= entries.size()) return nullptr;
      return entries[i].erased ? &kNoneSlot : &entries[i].key;
    }
    case Kind::Instance: {
      auto* n = static_cast<const InstanceNode*>(node);
      switch (i) {
        case 0: return &n->callable;
        case 1: return &n->args;
        case 2: return &n->kwargs;
        case 3: return n->has_state ? &n->state : &kNoneSlot;
        default: break;
      }
      i -= 4;
      if (i < n->list_items.size()) return &n->list_items[i];
      i -= n->list_items.size();
      if (i / 2 >= n->dict_items.size()) return nullptr;
      const auto& kv = n->dict_items[i / 2];
      return i % 2 == 0 ? &kv.first : &kv.second;
    }
    case Kind::PersistentRef:
      return i == 0 ? &static_cast<const PersistentRefNode*>(node)->pid : nullptr;
    default:
      return nullptr;
  }
}

}  // namespace

void Pickler::Impl::begin_stale_checks() {
  check_below_ = 0;
  for (size_t i = 0; i < alive_mutations_.size(); ++i) {
    if (alive_[i].mutation_count() != alive_mutations_[i]) {
      check_below_ = memo_count_;
      break;
    }
  }
  // Under kThrow the error may come after a frame is full: keep the
  // sink untouched until the dump is whole.
  if (check_below_ != 0 && options_.stale_memo == StaleMemo::kThrow) out_.hold();
}

void Pickler::Impl::end_stale_checks() {
  alive_mutations_.resize(alive_.size());
  for (size_t i = 0; i < alive_.size(); ++i) alive_mutations_[i] = alive_[i].mutation_count();
  check_below_ = 0;
  verdicts_.clear();
  rewritten_.clear();
}

Pickler::Impl::Walk Pickler::Impl::classify(const Node* node) {
  switch (node->kind) {
    case Kind::Int:
    case Kind::Complex:
    case Kind::Bytes:
    case Kind::Str:
    case Kind::Global:
    case Kind::Buffer:
      return Walk::kSkip;  // immutable, and holds nothing
    default:
      break;
  }
  auto cached = verdicts_.find(node);
  if (cached != verdicts_.end()) return cached->second == Verdict::kStale ? Walk::kChanged : Walk::kSkip;
  if (node->kind == Kind::PersistentRef) return Walk::kDescend;  // never memoized; its pid is
  if (node->kind == Kind::Tuple && static_cast<const TupleNode*>(node)->size == 0) return Walk::kSkip;
  uint32_t index = memo_find(node);
  if (index == kMissing) {
    // Not written by an earlier dump although what holds it was: either
    // the persistent_id hook wrote it as a reference (the hook's business,
    // not the memo's), or it was put there since, and its holder changed.
    return has_persistent_id_ ? Walk::kSkip : Walk::kChanged;
  }
  if (index >= check_below_) return Walk::kSkip;  // written by this dump
  if (index >= memo_versions_.size() || memo_versions_[index] != node_version(node)) return Walk::kChanged;
  return Walk::kDescend;
}

bool Pickler::Impl::is_stale(const Node* root) {
  Walk first = classify(root);
  if (first == Walk::kChanged) {
    // Remembered: once rewritten under a new entry, the node no longer
    // looks stale, but what an earlier dump wrote around it still is.
    verdicts_[root] = Verdict::kStale;
    return true;
  }
  if (first == Walk::kSkip) return false;
  // Depth-first with an explicit path: when a changed node turns up, every
  // node on the path reaches it, so each is stale; the fresh verdicts of
  // this walk may have counted on an unfinished ancestor (a cycle) and are
  // dropped. A walk that finds nothing leaves all it saw fresh.
  struct Frame {
    const Node* node;
    size_t next;
  };
  std::vector<Frame> path;
  std::vector<const Node*> fresh;
  verdicts_[root] = Verdict::kInProgress;
  path.push_back({root, 0});
  while (!path.empty()) {
    Frame& top = path.back();
    const Slot* child = nth_child(top.node, top.next++);
    if (child == nullptr) {
      verdicts_[top.node] = Verdict::kFresh;
      fresh.push_back(top.node);
      path.pop_back();
      continue;
    }
    if (!child->is_node()) continue;
    switch (classify(child->node)) {
      case Walk::kSkip:
        break;
      case Walk::kDescend:
        verdicts_[child->node] = Verdict::kInProgress;
        path.push_back({child->node, 0});
        break;
      case Walk::kChanged:
        for (const Node* n : fresh) verdicts_.erase(n);
        for (const Frame& f : path) verdicts_[f.node] = Verdict::kStale;
        return true;
    }
  }
  return false;
}

void Pickler::Impl::throw_stale(const Node* node) {
  throw StaleMemoError("an earlier dump() wrote this " + std::string(kind_name(node->kind)) +
                       ", and it (or something it holds) has changed since: a memo reference would load "
                       "the old value (StaleMemo::kThrow; nothing of this dump was written)");
}

bool Pickler::Impl::rewrite_if_stale(const Node* node, uint32_t old_index, uint32_t new_index) {
  if (!is_stale(node)) return false;
  if (options_.stale_memo == StaleMemo::kThrow) throw_stale(node);
  memo_.assign(node, new_index);
  rewritten_.emplace_back(node, old_index);
  record_version(node, new_index);
  return true;
}

bool Pickler::Impl::forget_if_stale(const Node* node, uint32_t old_index) {
  if (!is_stale(node)) return false;
  if (options_.stale_memo == StaleMemo::kThrow) throw_stale(node);
  memo_.forget(node);
  rewritten_.emplace_back(node, old_index);
  return true;
}

}  // namespace shelf::pickle
