#pragma once
/// \file gift/detail/nn/gift_linear.hpp
/// \brief Glue behind nn/gift_linear.hpp: the layer's operation tag and the plain description of a
/// trainable block that every backend's layer hands to the front end (which turns it into an
/// `optim::parameter` of the layer's backend).

#include <span>
#include <string>

namespace gift {

namespace ops {
/// Operation tag: the GIFT-SW linear layer. A backend implements it with a nested class template
/// `layer<T>` (state, forward, backward) in `backend::implementation<ops::gift_linear, Backend>`.
struct gift_linear {
  /// Printable name.
  static std::string name() { return "gift_linear"; }
};
}  // namespace ops

namespace detail {
/// One trainable block of a layer, in the memory of the layer's backend.
template <class T>
struct trainable_block {
  std::span<T> value;     ///< the trained values (fp32 master copy on mixed-precision paths)
  std::span<T> gradient;  ///< their accumulated gradient
  bool decay = true;      ///< weight decay applies (weights yes, biases no)
  std::string name;       ///< for messages
};
}  // namespace detail

}  // namespace gift
