#pragma once
/// \file gift/optim/parameter.hpp
/// \brief `gift::optim::parameter<T, Backend>`: a trainable block as optimizers see it — a view of
/// its values and of its gradient in the memory of `Backend`, nothing else.
///
/// Layers hand out views of what they train (for gift_linear: the out × k salient block and the
/// bias), a model concatenates the views of all its layers, and one optimizer steps them all.
/// The optimizer keeps state only for the elements it is given, so the frozen columns cost none.
/// The backend of the views chooses the backend of the optimizer: `parameter<float>` (Eigen, host
/// memory), `parameter<float, backend::thrust_omp>` (Thrust on the host), `parameter<float,
/// backend::cuda>` (device memory).

#include <gift/backend/tags.hpp>
#include <gift/concepts.hpp>
#include <gift/error.hpp>

#include <cmath>
#include <concepts>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace gift::optim {

/// One trainable block: `value` and `gradient` are views of the same length, owned by a layer
/// that must outlive the optimizer, in memory that `Backend` reaches. `decay` says whether weight
/// decay applies (weights: yes, biases: no, as usual).
template <std::floating_point T, backend_tag Backend = backend::eigen>
struct parameter {
  /// The scalar type.
  using scalar = T;
  /// The backend the views live on.
  using backend_type = Backend;
  std::span<T> value;     ///< the trained values (the fp32 master copy on mixed-precision paths)
  std::span<T> gradient;  ///< accumulated gradient, same length as `value`
  bool decay = true;      ///< apply weight decay to this block
  std::string name;       ///< for error messages, e.g. "layer 12 salient"
};

namespace detail {
/// Checks that every view's value and gradient have the same length.
template <class T, class Backend>
void require_matching_views(const std::vector<parameter<T, Backend>>& parameters, const char* where) {
  for (const auto& p : parameters)
    gift::detail::require(p.value.size() == p.gradient.size(), where, ": parameter '", p.name, "' has ",
                          p.value.size(), " values but ", p.gradient.size(), " gradient entries");
}

/// Checks a learning rate handed to `step`.
inline void require_learning_rate(double learning_rate, const char* where) {
  gift::detail::require(std::isfinite(learning_rate) && learning_rate >= 0.0, where,
                        ": argument 'learning_rate' must be finite and >= 0, but it is ", learning_rate);
}
}  // namespace detail

}  // namespace gift::optim
