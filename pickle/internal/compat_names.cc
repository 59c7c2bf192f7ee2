#include "pickle/internal/compat_names.h"

#include <algorithm>
#include <array>

namespace shelf::pickle::internal {
namespace {

struct NameRow {
  std::string_view from_module, from_name, to_module, to_name;
};
struct ModuleRow {
  std::string_view from, to;
};

// The generated rows are sorted by (module, name), so lookups bisect.
constexpr NameRow kNamesTo3[] = {
#define NAME_TO_3(m, n, m3, n3) {m, n, m3, n3},
#define MODULE_TO_3(m, m3)
#define NAME_TO_2(m, n, m2, n2)
#define MODULE_TO_2(m, m2)
#include "pickle/internal/compat_names.inc"
#undef NAME_TO_3
#undef MODULE_TO_3
#undef NAME_TO_2
#undef MODULE_TO_2
};

constexpr ModuleRow kModulesTo3[] = {
#define NAME_TO_3(m, n, m3, n3)
#define MODULE_TO_3(m, m3) {m, m3},
#define NAME_TO_2(m, n, m2, n2)
#define MODULE_TO_2(m, m2)
#include "pickle/internal/compat_names.inc"
#undef NAME_TO_3
#undef MODULE_TO_3
#undef NAME_TO_2
#undef MODULE_TO_2
};

constexpr NameRow kNamesTo2[] = {
#define NAME_TO_3(m, n, m3, n3)
#define MODULE_TO_3(m, m3)
#define NAME_TO_2(m, n, m2, n2) {m, n, m2, n2},
#define MODULE_TO_2(m, m2)
#include "pickle/internal/compat_names.inc"
#undef NAME_TO_3
#undef MODULE_TO_3
#undef NAME_TO_2
#undef MODULE_TO_2
};

constexpr ModuleRow kModulesTo2[] = {
#define NAME_TO_3(m, n, m3, n3)
#define MODULE_TO_3(m, m3)
#define NAME_TO_2(m, n, m2, n2)
#define MODULE_TO_2(m, m2) {m, m2},
#include "pickle/internal/compat_names.inc"
#undef NAME_TO_3
#undef MODULE_TO_3
#undef NAME_TO_2
#undef MODULE_TO_2
};

template <size_t N>
const NameRow* find_name(const NameRow (&rows)[N], std::string_view module, std::string_view name) {
  auto it = std::lower_bound(std::begin(rows), std::end(rows), std::pair(module, name),
                             [](const NameRow& row, const std::pair<std::string_view, std::string_view>& key) {
                               return std::pair(row.from_module, row.from_name) < key;
                             });
  if (it == std::end(rows) || it->from_module != module || it->from_name != name) return nullptr;
  return it;
}

template <size_t N>
const ModuleRow* find_module(const ModuleRow (&rows)[N], std::string_view module) {
  auto it = std::lower_bound(std::begin(rows), std::end(rows), module,
                             [](const ModuleRow& row, std::string_view key) { return row.from < key; });
  if (it == std::end(rows) || it->from != module) return nullptr;
  return it;
}

template <size_t N, size_t M>
std::optional<QualifiedName> map_name(const NameRow (&names)[N], const ModuleRow (&modules)[M],
                                      std::string_view module, std::string_view name) {
  if (const NameRow* row = find_name(names, module, name)) return QualifiedName{row->to_module, row->to_name};
  if (const ModuleRow* row = find_module(modules, module)) return QualifiedName{row->to, name};
  return std::nullopt;
}

}  // namespace

std::optional<QualifiedName> python3_name(std::string_view module, std::string_view name) {
  return map_name(kNamesTo3, kModulesTo3, module, name);
}

std::optional<QualifiedName> python2_name(std::string_view module, std::string_view name) {
  return map_name(kNamesTo2, kModulesTo2, module, name);
}

}  // namespace shelf::pickle::internal
