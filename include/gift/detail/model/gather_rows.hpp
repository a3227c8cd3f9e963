#pragma once
/// \file gift/detail/model/gather_rows.hpp
/// \brief The row-gather operation tag (token embedding lookup, last positions of sequences).

#include <string>

namespace gift::ops {
/// Operation tag: `out.row(r) = table.row(ids[r])`.
struct gather_rows {
  /// Printable name.
  static std::string name() { return "gather_rows"; }
};
}  // namespace gift::ops
