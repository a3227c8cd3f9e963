#pragma once
/// \file gift/backend/eigen/model/gather_rows.hpp
/// \brief Row gathers on the Eigen backend.

#include <gift/backend/dispatch.hpp>
#include <gift/detail/model/gather_rows.hpp>
#include <gift/fwd.hpp>

#include <cstdint>
#include <span>

namespace gift::backend {

template <>
struct implementation<ops::gather_rows, eigen> {
  static constexpr bool available = true;
  /// `out` (resized to `ids.size() × table.cols()`) gets row `ids[r]` of `table` as its row r;
  /// the ids were checked by the front end.
  template <class T>
  static void run(eigen, const gift::matrix<T>& table, std::span<const std::int32_t> ids, gift::matrix<T>& out) {
    out.resize(static_cast<Eigen::Index>(ids.size()), table.cols());
    for (std::size_t r = 0; r < ids.size(); ++r) out.row(static_cast<Eigen::Index>(r)) = table.row(ids[r]);
  }
};

}  // namespace gift::backend
