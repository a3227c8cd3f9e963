#pragma once
/// \file gift/backend/traits.hpp
/// \brief `backend_for_t<Container>`: the backend an argument type implies.
///
/// Eigen dense types map to `backend::eigen` here; Thrust containers map to their system in
/// `backend/thrust/matrix.hpp`, which specialises `backend_for` for them.

#include <gift/backend/tags.hpp>
#include <gift/concepts.hpp>
#include <gift/fwd.hpp>

#include <cstdint>
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

/// Maps a container type to the same backend's dense matrix of element type `U`, through a nested
/// `type`: how a front end names the matrices a backend returns (an Eigen input gives
/// `gift::matrix<U>`, a `thrust_matrix<T, S>` gives `thrust_matrix<U, S>`). Specialise it beside
/// `backend_for` for new container types.
template <class Container, class U, class Enable = void>
struct rebind_matrix {};

/// Eigen dense expressions: the row-major `gift::matrix<U>`.
template <class Container, class U>
struct rebind_matrix<Container, U, std::enable_if_t<eigen_dense<Container>>> {
  /// gift's row-major CPU matrix.
  using type = gift::matrix<U>;
};

/// The matrix of element type `U` on `Container`'s backend (cv-ref removed).
template <class Container, class U>
using rebind_matrix_t = typename rebind_matrix<std::remove_cvref_t<Container>, U>::type;

/// The containers a backend computes in, for element type `T`: a nested `matrix` (dense,
/// row-major, element (i, j) at `i * cols + j` as everywhere in gift) and `vector`, and the copies
/// between them and host Eigen objects (`from_host`, `to_host`), and `zeros(rows, cols)`. What a whole model (or any other
/// stateful part) needs to hold its tensors on a backend it is handed as a tag. Specialised here
/// for Eigen; `backend/thrust/matrix.hpp` specialises it for the Thrust systems.
template <class Backend, class T, class Enable = void>
struct backend_storage {};

/// Eigen: gift's row-major matrix and column vector; the copies are plain copies.
template <class T>
struct backend_storage<backend::eigen, T> {
  /// Dense row-major matrix.
  using matrix = gift::matrix<T>;
  /// Dense vector.
  using vector = gift::vector<T>;
  /// A copy of a host matrix on this backend.
  static matrix from_host(const gift::matrix<T>& m) { return m; }
  /// A copy of a host vector on this backend.
  static vector from_host(const gift::vector<T>& v) { return v; }
  /// A host copy.
  static gift::matrix<T> to_host(const matrix& m) { return m; }
  /// A host copy.
  static gift::vector<T> to_host(const vector& v) { return v; }
  /// A `rows × cols` matrix of zeros.
  static matrix zeros(std::int64_t rows, std::int64_t cols) { return matrix::Zero(rows, cols); }
};

/// The dense matrix type of `Backend` for elements `T`.
template <class Backend, class T>
using backend_matrix_t = typename backend_storage<Backend, T>::matrix;

/// The vector type of `Backend` for elements `T`.
template <class Backend, class T>
using backend_vector_t = typename backend_storage<Backend, T>::vector;

/// True when `Backend` can hold tensors of `T` (a `backend_storage` specialisation is visible).
template <class Backend, class T>
concept has_storage = requires { typename backend_storage<Backend, T>::matrix; };

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
