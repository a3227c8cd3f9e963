#pragma once
/// \file backend/traits.hpp
/// \brief `backend_for_t<Container>`: the backend an argument type implies.
///
/// Eigen dense types map to `backend::eigen` here; Thrust containers map to their system in
/// `backend/thrust/matrix.hpp`, which specialises `backend_for` for them.

#include <gift/backend/tags.hpp>
#include <gift/concepts.hpp>

#include <type_traits>

namespace gift {

/// Maps a container type to its backend tag through a nested `type`. The primary template has
/// none; specialise it for new container types.
template <class Container, class Enable = void>
struct backend_for {};

/// Eigen dense expressions run on the Eigen backend.
template <class Container>
struct backend_for<Container, std::enable_if_t<eigen_dense<Container>>> {
  /// The Eigen backend.
  using type = backend::eigen;
};

/// True when a backend can be deduced for `T`.
template <class T>
concept has_backend = requires { typename backend_for<std::remove_cvref_t<T>>::type; };

namespace detail {
template <class Container>
consteval auto deduce_backend() {
  static_assert(has_backend<Container>,
                "gift: no backend can be deduced from this argument type. Pass an Eigen matrix, a "
                "gift::thrust_matrix (include <gift/backend/thrust.hpp> and link gift::thrust), "
                "or name the backend explicitly as the first argument, e.g. "
                "gift::column_norms<gift::l2>(gift::backend::eigen{}, m).");
  if constexpr (has_backend<Container>) {
    return typename backend_for<std::remove_cvref_t<Container>>::type{};
  } else {
    return backend::none{};
  }
}
}  // namespace detail

/// The backend for `Container` (cv-ref removed); a clear compile error when there is none.
template <class Container>
using backend_for_t = decltype(detail::deduce_backend<Container>());

}  // namespace gift
