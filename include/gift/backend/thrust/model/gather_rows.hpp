#pragma once
/// \file gift/backend/thrust/model/gather_rows.hpp
/// \brief Row gathers on a Thrust system: one functor call per element.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/backend/thrust/system.hpp>
#include <gift/config.hpp>
#include <gift/detail/model/gather_rows.hpp>

#include <cstdint>
#include <span>

namespace gift::backend {

namespace detail {
template <class T>
struct gathered_elements {
  const T* table;
  const std::int32_t* ids;
  T* out;
  std::int64_t cols;
  GIFT_HOST_DEVICE void operator()(std::int64_t e) const {
    out[e] = table[static_cast<std::int64_t>(ids[e / cols]) * cols + e % cols];
  }
};
}  // namespace detail

template <class System>
struct implementation<ops::gather_rows, thrust<System>> {
  static constexpr bool available = true;
  /// `out` (resized) gets row `ids[r]` of `table` as its row r; the ids were checked by the front end.
  template <class T>
  static void run(thrust<System>, const thrust_matrix<T, System>& table, std::span<const std::int32_t> ids,
                  thrust_matrix<T, System>& out) {
    out.resize(ids.size(), table.cols());
    const thrust_vector_t<System, std::int32_t> system_ids(ids.begin(), ids.end());
    detail::for_each_index<System>(
        static_cast<std::int64_t>(out.size()),
        detail::gathered_elements<T>{table.data(), ::thrust::raw_pointer_cast(system_ids.data()), out.data(),
                                     static_cast<std::int64_t>(table.cols())});
  }
};

}  // namespace gift::backend
