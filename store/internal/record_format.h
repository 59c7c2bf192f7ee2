// store/internal/record_format.h: the on-disk layout. On disk: never
// renumber, never rename. docs/format.md is the prose version.
#pragma once

#include <string_view>

namespace shelf::store::internal {

// Named LMDB databases in the environment.
inline constexpr std::string_view kRecordsDb = "records";  // UTF-8 key -> pickle bytes
inline constexpr std::string_view kMetaDb = "meta";        // ASCII key -> ASCII value

// Keys of the meta database. Values are ASCII text.
inline constexpr std::string_view kMetaFormat = "format";          // "1"
inline constexpr std::string_view kMetaProtocol = "protocol";      // "0".."5"
inline constexpr std::string_view kMetaCreatedBy = "created_by";   // "shelf 0.1.0"

// The format this code writes and the newest it reads.
inline constexpr int kFormatVersion = 1;

}  // namespace shelf::store::internal
