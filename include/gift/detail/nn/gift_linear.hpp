#pragma once
/// \file gift/detail/nn/gift_linear.hpp
/// \brief Glue behind nn/gift_linear.hpp: the layer's operation tag and the plain description of a
/// trainable block that every backend's layer hands to the front end (which turns it into an
/// `optim::parameter` of the layer's backend).

#include <gift/detail/noise.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/random.hpp>
#include <gift/salient_columns.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

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
/// What the GIFT-SW layer of every backend holds beside its matrices — the salient set, the
/// per-row scale Δ, the noise stream, the mode and the panel size — checked once, and the
/// accessors for them. The backends' `layer<T>` classes derive from it.
class gift_linear_settings {
public:
  /// The salient columns (indices ascending, and the mask).
  [[nodiscard]] const gift::salient_columns& salient_columns() const noexcept { return selection_; }
  /// The per-row quantization scale Δ.
  [[nodiscard]] const gift::vector<float>& delta() const noexcept { return delta_; }
  /// The noise stream's seed and layer id (step 0).
  [[nodiscard]] noise_key base_key() const noexcept { return base_; }
  /// Whether a bias is present.
  [[nodiscard]] bool has_bias() const noexcept { return has_bias_; }
  /// Training mode injects noise in `forward`; evaluation mode uses the clean weights.
  void set_training(bool training) noexcept { training_ = training; }
  /// True in training mode (the default).
  [[nodiscard]] bool training() const noexcept { return training_; }
  /// Elements of W̃ generated per panel: bounds a pass's scratch memory (default 2^22, 16 MB in
  /// float). Each panel's GEMM re-packs the activations, so wider panels cost less (measured on
  /// the CPU: 2^20 cost 1.40x dense at T = 4096, 11008 x 4096, where the backward panels were
  /// only 92 columns wide).
  /// \throws gift::error for 0.
  void set_panel_elements(std::size_t elements) {
    require(elements > 0, "gift::nn::gift_linear::set_panel_elements: argument 'elements' must be > 0");
    panel_elements_ = elements;
  }

  /// Keeps W̃ (the noisy weight of the last training `forward`) for `backward`, which then reads it
  /// instead of generating the noise a second time: the step generates its noise once instead of
  /// twice, at the cost of one out × in matrix of the layer's scalar per layer (held between
  /// steps once made; for a whole model as many bytes as its linear weights). The results are
  /// bit-identical with the cache on or off: backward multiplies the same panels of the same
  /// values. Off by default. The CPU (Eigen) layer implements it; the Thrust and CUDA layers
  /// regenerate the noise whatever the setting (each layer's `noisy_weight_cache_supported` says
  /// which at compile time).
  void set_noisy_weight_cache(bool on) { noisy_weight_cache_ = on; }
  /// Whether `set_noisy_weight_cache(true)` was asked for.
  [[nodiscard]] bool noisy_weight_cache() const noexcept { return noisy_weight_cache_; }

protected:
  /// Checks `selection` against the layer's `in` columns and `delta` against its `out` rows.
  /// \throws gift::error naming `where`.
  gift_linear_settings(const gift::salient_columns& selection, const gift::vector<float>& delta, noise_key base,
                       bool has_bias, std::int64_t out, std::int64_t in, const char* where)
      : selection_(selection), delta_(delta), base_(base), has_bias_(has_bias) {
    selection_.require_columns(static_cast<std::size_t>(in), where);
    check_delta(delta_, out, where);
  }

  /// The salient indices, ascending (the passes look them up by position).
  [[nodiscard]] const std::vector<std::int64_t>& salient_indices() const noexcept { return selection_.indices(); }

  gift::salient_columns selection_;  ///< the salient set
  gift::vector<float> delta_;        ///< Δ per output row
  noise_key base_;                   ///< seed and layer (step 0)
  bool has_bias_ = false;            ///< a bias is trained
  bool training_ = true;             ///< noise in `forward`
  std::size_t panel_elements_ = std::size_t{1} << 22;  ///< scratch per panel
  bool noisy_weight_cache_ = false;                    ///< backward reads W̃ kept by forward
};

}  // namespace detail

}  // namespace gift
