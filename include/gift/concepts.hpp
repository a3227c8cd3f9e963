#pragma once
/// \file gift/concepts.hpp
/// \brief Concepts that constrain gift's public template parameters.

#include <gift/fwd.hpp>

#include <concepts>
#include <string>
#include <type_traits>

namespace gift {

/// A norm policy (see norm.hpp): a streaming reduction with identity, accumulate, combine,
/// finish and a printable name.
template <class N>
concept norm_policy = requires(double a, double b) {
  { N::identity } -> std::convertible_to<double>;
  { N::p } -> std::convertible_to<double>;
  { N::accumulate(a, b) } -> std::same_as<double>;
  { N::combine(a, b) } -> std::same_as<double>;
  { N::finish(a) } -> std::same_as<double>;
  { N::name() } -> std::convertible_to<std::string>;
};

namespace detail {
template <class Derived>
std::true_type derives_from_dense_base(const Eigen::DenseBase<Derived>*);
std::false_type derives_from_dense_base(...);
}  // namespace detail

/// Any Eigen dense expression (matrix, array, block, map), including the `Eigen::MatrixBase<D>`
/// a generic function receives.
template <class T>
concept eigen_dense = decltype(detail::derives_from_dense_base(static_cast<const std::remove_cvref_t<T>*>(nullptr)))::value;

/// An Eigen dense matrix or expression with floating-point scalars.
template <class T>
concept eigen_float_matrix = eigen_dense<T> && std::is_floating_point_v<typename std::remove_cvref_t<T>::Scalar>;

/// A backend tag: names itself and says which backend to try when it lacks an operation.
template <class B>
concept backend_tag = requires {
  typename B::fallback;
  { B::name() } -> std::convertible_to<std::string>;
};

}  // namespace gift
