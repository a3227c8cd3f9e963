#pragma once
/// \file gift/model/gather_rows.hpp
/// \brief `gift::model::gather_rows(table, ids, out)`: rows of a matrix picked by index — the token
/// embedding lookup, and the last position of every sequence — on the backend the matrices'
/// type implies.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/model/gather_rows.hpp>
#include <gift/backend/traits.hpp>
#include <gift/detail/model/gather_rows.hpp>
#include <gift/error.hpp>

#include <cstdint>
#include <span>

namespace gift::model {

/// `out` (resized to `ids.size() × table.cols()`) gets row `ids[r]` of `table` as its row r.
/// \throws gift::error when an id is outside `[0, table.rows())`.
template <class Matrix>
  requires has_backend<Matrix>
void gather_rows(const Matrix& table, std::span<const std::int32_t> ids, Matrix& out) {
  const auto rows = static_cast<std::int64_t>(table.rows());
  for (std::size_t r = 0; r < ids.size(); ++r)
    gift::detail::require(ids[r] >= 0 && ids[r] < rows, "gift::model::gather_rows: ids[", r, "] = ", ids[r],
                          " is outside the table's rows [0, ", rows, ")");
  backend::dispatch<ops::gather_rows>(backend_for_t<Matrix>{}, table, ids, out);
}

}  // namespace gift::model
