// pickle/extensions.h: the extension registry of copyreg (add_extension,
// remove_extension): globals that pickles name by a small integer code,
// written EXT1 / EXT2 / EXT4 instead of GLOBAL / STACK_GLOBAL.
//
// Codes are a private agreement between writer and reader (CPython's
// registry starts empty; PEP 307 reserves 1-127 for the Python project,
// 128-191 for Zope, 192-239 for third parties, 240-255 for private use).
// Give the same registry to the Pickler (PicklerOptions::extensions) and the
// Unpickler (UnpicklerOptions::extensions).
//
// Threads: fill it first, then share it (read-only) through a
// std::shared_ptr<const ExtensionRegistry>.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace shelf::pickle {

class ExtensionRegistry {
 public:
  using Name = std::pair<std::string, std::string>;  // module, qualified name

  // copyreg.add_extension: binds module.name to `code` (1..0x7fffffff).
  // Adding the same binding twice is a no-op; binding either side to
  // something else throws std::invalid_argument, with CPython's messages.
  void add(std::string_view module, std::string_view name, int64_t code) {
    if (code < 1 || code > 0x7fffffff) throw std::invalid_argument("code out of range");
    Name key(module, name);
    auto by_name = codes_.find(key);
    auto by_code = names_.find(static_cast<int32_t>(code));
    if (by_name != codes_.end() && by_name->second == code && by_code != names_.end() && by_code->second == key) {
      return;
    }
    if (by_name != codes_.end()) {
      throw std::invalid_argument("key " + describe(key) + " is already registered with code " +
                                  std::to_string(by_name->second));
    }
    if (by_code != names_.end()) {
      throw std::invalid_argument("code " + std::to_string(code) + " is already in use for key " +
                                  describe(by_code->second));
    }
    codes_.emplace(key, static_cast<int32_t>(code));
    names_.emplace(static_cast<int32_t>(code), std::move(key));
  }

  // copyreg.remove_extension: throws std::invalid_argument when module.name
  // is not registered with `code`.
  void remove(std::string_view module, std::string_view name, int64_t code) {
    Name key(module, name);
    auto it = codes_.find(key);
    if (it == codes_.end() || it->second != code) {
      throw std::invalid_argument("key " + describe(key) + " is not registered with code " + std::to_string(code));
    }
    codes_.erase(it);
    names_.erase(static_cast<int32_t>(code));
  }

  // The code of module.name, or nullopt.
  std::optional<int32_t> code(std::string_view module, std::string_view name) const {
    auto it = codes_.find(Name(module, name));
    if (it == codes_.end()) return std::nullopt;
    return it->second;
  }
  // The global bound to `code`, or nullptr.
  const Name* name(int64_t code) const {
    if (code < 1 || code > 0x7fffffff) return nullptr;
    auto it = names_.find(static_cast<int32_t>(code));
    return it == names_.end() ? nullptr : &it->second;
  }
  bool empty() const { return codes_.empty(); }

 private:
  static std::string describe(const Name& key) { return "('" + key.first + "', '" + key.second + "')"; }
  std::map<Name, int32_t> codes_;
  std::map<int32_t, Name> names_;
};

}  // namespace shelf::pickle
