#pragma once
/// \file gift/optim/parameter.hpp
/// \brief `gift::optim::parameter<T>`: a trainable block as optimizers see it — a view of its
/// values and of its gradient, nothing else.
///
/// Layers hand out views of what they train (for gift_linear: the out × k salient block and the
/// bias), a model concatenates the views of all its layers, and one optimizer steps them all.
/// The optimizer keeps state only for the elements it is given, so the frozen columns cost none.

#include <concepts>
#include <cstddef>
#include <span>
#include <string>

namespace gift::optim {

/// One trainable block: `value` and `gradient` are views of the same length, owned by a layer
/// that must outlive the optimizer. `decay` says whether weight decay applies (weights: yes,
/// biases: no, as usual).
template <std::floating_point T>
struct parameter {
  std::span<T> value;     ///< the trained values (the fp32 master copy on mixed-precision paths)
  std::span<T> gradient;  ///< accumulated gradient, same length as `value`
  bool decay = true;      ///< apply weight decay to this block
  std::string name;       ///< for error messages, e.g. "layer 12 salient"
};

}  // namespace gift::optim
