// pickle/internal/compat_names.h: Python 2 <-> 3 module and global names,
// as pickle.py maps them when fix_imports is true.
#pragma once

#include <optional>
#include <string_view>
#include <utility>

namespace shelf::pickle::internal {

using QualifiedName = std::pair<std::string_view, std::string_view>;  // module, name

// Loading: a Python 2 global as Python 3 names it (pickle.py's find_class
// with protocol < 3), or nullopt when the name is unchanged.
std::optional<QualifiedName> python3_name(std::string_view module, std::string_view name);

// Dumping at protocol < 3: a Python 3 global as Python 2 names it
// (pickle.py's save_global), or nullopt when the name is unchanged.
std::optional<QualifiedName> python2_name(std::string_view module, std::string_view name);

}  // namespace shelf::pickle::internal
