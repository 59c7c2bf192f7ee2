#include "pickle/hooks.h"

#include "pickle/internal/data_constructors.h"

namespace shelf::pickle {

// The list lives with the code that builds them (pickle/internal/data_constructors.cc).
bool is_data_constructor(std::string_view module, std::string_view name) {
  return internal::data_ctor(module, name) != internal::DataCtor::kNone;
}

FindGlobalPolicy FindGlobal::build_data() { return {}; }

FindGlobalPolicy FindGlobal::data_only() {
  return {[](std::string_view module, std::string_view name) {
            return is_data_constructor(module, name) ? GlobalAction::kBuild : GlobalAction::kRefuse;
          },
          GlobalAction::kRefuse};
}

FindGlobalPolicy FindGlobal::refuse_all() {
  return {[](std::string_view, std::string_view) { return GlobalAction::kRefuse; }, GlobalAction::kRefuse};
}

FindGlobalPolicy FindGlobal::inert_all() {
  return [](std::string_view, std::string_view) { return GlobalAction::kInert; };
}

}  // namespace shelf::pickle
