// store/typed.h: registered C++ types (pickle/types.h) in a shelf.
//
//   put_as(types, shelf, "origin", Point{0, 0});
//   Point p = get_as<Point>(types, shelf, "origin");
//
// A record holding another class (or a plain value) throws
// pickle::TypeError: "record 'origin': expected geometry.Point, found an
// instance of geometry.Circle". Header-only, over the public API of
// store/shelf.h, store/txn.h and store/session.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "pickle/types.h"
#include "pickle/value.h"
#include "store/session.h"
#include "store/shelf.h"
#include "store/txn.h"

namespace shelf::store {

namespace internal {
template <class T>
T typed_from(const pickle::TypeRegistry& types, std::string_view key, const pickle::Value& v) {
  try {
    return types.from_value<T>(v);
  } catch (const pickle::TypeError& e) {
    throw pickle::TypeError("record '" + std::string(key) + "': " + e.what());
  }
}
}  // namespace internal

// The record `key` as a T, or nullopt when there is none. `resolve`
// follows references to other records first (see store/txn.h), so a T
// whose fields are other records' objects loads whole.
template <class T>
std::optional<T> find_as(const pickle::TypeRegistry& types, Txn& txn, std::string_view key, Resolve resolve = {}) {
  std::optional<pickle::Value> v = txn.find(key, resolve);
  if (!v) return std::nullopt;
  return internal::typed_from<T>(types, key, *v);
}

// As find_as, but a missing record throws KeyNotFound.
template <class T>
T get_as(const pickle::TypeRegistry& types, Txn& txn, std::string_view key, Resolve resolve = {}) {
  return internal::typed_from<T>(types, key, txn.get(key, resolve));
}
template <class T>
T get_as(const pickle::TypeRegistry& types, const Shelf& shelf, std::string_view key, Resolve resolve = {}) {
  return internal::typed_from<T>(types, key, shelf.get(key, resolve));
}
template <class T>
T get_as(const pickle::TypeRegistry& types, Session& session, std::string_view key, Resolve resolve = {}) {
  return internal::typed_from<T>(types, key, session.get(key, resolve));
}

// Stores `obj` under `key`, pickled as CPython pickles the registered
// Python class at the shelf's protocol.
template <class T>
void put_as(const pickle::TypeRegistry& types, Shelf& shelf, std::string_view key, const T& obj) {
  pickle::Graph graph;
  shelf.put(key, types.to_value(graph, obj, shelf.protocol()));
}
// In a transaction, or a session (returning the value the session tracks);
// `protocol` is the shelf's (shelf.protocol()): it decides the form the
// object takes, as object.__reduce_ex__(protocol) does.
template <class T>
void put_as(const pickle::TypeRegistry& types, WriteTxn& txn, std::string_view key, const T& obj, int protocol) {
  pickle::Graph graph = txn.graph();
  txn.put(key, types.to_value(graph, obj, protocol));
}
template <class T>
pickle::Value put_as(const pickle::TypeRegistry& types, Session& session, std::string_view key, const T& obj,
                     int protocol) {
  pickle::Graph graph = session.graph();
  return session.put(key, types.to_value(graph, obj, protocol));
}

}  // namespace shelf::store
