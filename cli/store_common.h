// cli/store_common.h: what the store commands share: opening a shelf with
// errors in shelfctl's words, and printing a value in the formats `get`
// offers.
#pragma once

#include <string>

#include "pickle/value.h"
#include "store/shelf.h"

namespace shelf::cli {

// Opens the shelf at `path`; a StoreError becomes a CommandError naming the
// path. `write` opens it read-write (it must exist unless `create`).
store::Shelf open_shelf(const std::string& path, bool write, bool create = false);

// Runs `body`, turning a StoreError into a CommandError about `subject`.
template <typename Body>
auto with_store_errors(const std::string& subject, Body&& body) -> decltype(body());

// JSON text of a value, as Python's json.dumps writes it (NaN and Infinity
// included); bytes become {"$bytes": base64}, references {"$ref": key},
// other non-data nodes {"$global": "module.name"} / {"$object": ...}.
// Throws CommandError for what JSON cannot hold (a cycle, a dict key that
// is not str/int/float/bool/None).
std::string to_json(const pickle::Value& value);

}  // namespace shelf::cli

#include "cli/common.h"

namespace shelf::cli {

template <typename Body>
auto with_store_errors(const std::string& subject, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const store::KeyNotFound& e) {
    throw CommandError(subject, "no record for key '" + e.key() + "'");
  } catch (const store::StoreError& e) {
    throw CommandError(subject, e.what());
  }
}

}  // namespace shelf::cli
