#pragma once
/// \file gift/pipeline/quantize_model.hpp
/// \brief Mixed-precision quantization of a whole model: every linear layer's non-salient columns
/// to b-bit symmetric codes (round to nearest, per row or per group, or GPTQ with the layer's Gram
/// matrix), its salient columns kept in full precision — the QUIK/OWQ-style model GIFT-SW starts
/// from and the noise scale Δ it trains with.
///
/// \code
/// const auto calibration = gift::pipeline::calibrate(model, sequences, {.gram = true});
/// const auto result = gift::pipeline::quantize_model(
///     model, [&](int block, gift::model::projection p, std::size_t) { return salient_of(block, p); },
///     {.method = gift::pipeline::quantize_method::gptq, .bits = 4},
///     [&](int block, gift::model::projection p) { return calibration.gram(block, p).gram(); });
/// // model's linear layers now hold the mixed-precision weights; result.steps the per-row Δ.
/// \endcode

#include <gift/backend/tags.hpp>
#include <gift/backend/traits.hpp>
#include <gift/error.hpp>
#include <gift/model/linear_module.hpp>
#include <gift/model/llama.hpp>
#include <gift/model/stored_linear.hpp>
#include <gift/stored_weight.hpp>
#include <gift/quant/gptq.hpp>
#include <gift/quant/options.hpp>
#include <gift/quant/symmetric.hpp>
#include <gift/salient_columns.hpp>

#include <cmath>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace gift::pipeline {

/// How the non-salient columns are quantized.
enum class quantize_method {
  rtn,   ///< round to nearest, α searched per row (or per group) over the non-salient columns
  gptq,  ///< GPTQ with the layer's Gram matrix (per-row α; salient columns updated, kept in fp32)
};

/// "rtn" or "gptq".
[[nodiscard]] constexpr std::string_view name_of(quantize_method method) noexcept {
  return method == quantize_method::rtn ? "rtn" : "gptq";
}

/// What `quantize_layer` and `quantize_model` do.
struct quantize_options {
  quantize_method method = quantize_method::rtn;   ///< rtn or gptq
  int bits = 4;                                    ///< b in 2..8
  alpha_search search = alpha_search::paper_grid(100);  ///< how each row's (group's) clipping α is chosen
  std::size_t group_size = 0;                      ///< rtn: columns per scale (0: one per row); gptq needs 0
  /// `quantize_model`: how each quantized layer is held (bf16, Eigen only: half the memory, each
  /// value q·Δ rounded once more to bf16; what a 7B-shaped model needs to fit 24 GiB).
  gift::weight_storage storage = gift::weight_storage::f32;
};

/// One quantized layer: the mixed-precision weight and its quantization steps.
struct quantized_layer {
  gift::matrix<float> weight;   ///< out × in: non-salient columns on the b-bit grid, salient in full precision
  /// Per-row steps Δ (out), or with scale groups rows × groups flattened row-major (what
  /// `symmetric_result::delta` holds).
  gift::vector<float> steps;
};

/// Quantizes `weight` (out × in) with its `salient` columns kept: rtn quantizes every column with
/// the α searched over the non-salient ones and puts the salient columns back; gptq runs
/// `gift::gptq` with `gram` (in × in `XᵀX`).
/// \throws gift::error for bad options (bits, a group size with gptq), a missing or mismatched Gram
/// matrix for gptq, or what the quantizers throw (non-finite weights, ...).
[[nodiscard]] inline quantized_layer quantize_layer(const gift::matrix<float>& weight, const salient_columns& salient,
                                                    const quantize_options& options,
                                                    const gift::matrix<double>* gram = nullptr) {
  const char* where = "gift::pipeline::quantize_layer";
  gift::require(options.group_size == 0 || options.method == quantize_method::rtn, where,
                ": quantize_options::group_size ", options.group_size, " works with rtn only (GPTQ scales whole ",
                "rows); set it to 0 or use quantize_method::rtn");
  quantized_layer out;
  if (options.method == quantize_method::rtn) {
    auto q = quantize_symmetric(weight, symmetric_options{options.bits, options.search, options.group_size}, salient);
    out.weight = std::move(q.dequantized);
    restore_salient_columns(out.weight, weight, salient);
    const gift::matrix<float> steps = q.delta;
    out.steps = Eigen::Map<const gift::vector<float>>(steps.data(), steps.size());
    return out;
  }
  gift::require(gram != nullptr, where, ": quantize_method::gptq needs the layer's Gram matrix (",
                "pipeline::calibrate with calibrate_options::gram)");
  gptq_options gptq_settings;
  gptq_settings.bits = options.bits;
  gptq_settings.search = options.search;
  auto q = gptq(weight, *gram, salient, gptq_settings);
  out.weight = std::move(q.weights);
  out.steps = std::move(q.delta);
  return out;
}

/// The salient columns of layer `p` of `block`, whose input width is `columns`.
using salient_source = std::function<salient_columns(int block, model::projection p, std::size_t columns)>;
/// The Gram matrix `XᵀX` of the input of layer `p` of `block` (for gptq).
using gram_source = std::function<gift::matrix<double>(int block, model::projection p)>;

/// What `quantize_model` did.
struct quantized_model {
  /// Each layer's steps under `<model::layer_name>.delta` (per row: GIFT-SW's noise scale) or,
  /// with scale groups, `.group_delta` (rows × groups): the names gift's weight files use.
  std::map<std::string, gift::vector<float>> steps;
  /// ‖Q − W‖ / ‖W‖ over the non-salient columns of all layers (Frobenius).
  double relative_error_non_salient = 0;
};

/// Quantizes every linear layer of `model` (`quantize_layer`, in block and projection order) and
/// replaces it by a frozen layer holding the mixed-precision weight. `salient` gives each layer's
/// kept columns (`salient_columns::none` for a fully quantized model); `grams` each layer's Gram
/// matrix for gptq; `on_layer` (optional) is called after each layer.
///
/// Any backend: each layer's weight comes to the host (`effective_weight()`), is quantized there
/// by the same code as on Eigen, and goes back as the backend's `frozen_linear`, so a Thrust or
/// CUDA model ends with the bits its Eigen copy would. (The quantizers themselves — `gptq`'s
/// Cholesky and column sweep, the α search — run on the host for every backend.)
/// \throws gift::error as `quantize_layer`, or when gptq is asked for without `grams`; the layers
/// quantized before the error stay replaced.
template <backend_tag Backend = backend::eigen>
quantized_model quantize_model(model::llama_model<float, Backend>& model, const salient_source& salient,
                               const quantize_options& options, const gram_source& grams = {},
                               const std::function<void()>& on_layer = {}) {
  gift::require(options.method == quantize_method::rtn || static_cast<bool>(grams),
                "gift::pipeline::quantize_model: quantize_method::gptq needs argument 'grams' (each layer's XᵀX, e.g. ",
                "from pipeline::calibrate with calibrate_options::gram)");
  gift::require(std::is_same_v<Backend, backend::eigen> || options.storage == gift::weight_storage::f32,
                "gift::pipeline::quantize_model: quantize_options::storage bf16 is implemented on the Eigen backend; ",
                "use weight_storage::f32 on this one");
  gift::require(static_cast<bool>(salient), "gift::pipeline::quantize_model: argument 'salient' is empty; return ",
                "salient_columns::none(columns) for layers without salient columns");
  quantized_model result;
  double error_squares = 0, weight_squares = 0;
  for (int b = 0; b < model.config().layers; ++b) {
    for (model::projection p : model::all_projections) {
      const gift::matrix<float> weight = model.linear(b, p).effective_weight();
      const salient_columns kept = salient(b, p, static_cast<std::size_t>(weight.cols()));
      std::optional<gift::matrix<double>> gram;
      if (options.method == quantize_method::gptq) gram.emplace(grams(b, p));
      quantized_layer q = quantize_layer(weight, kept, options, gram ? &*gram : nullptr);
      // Error on the non-salient part only (the salient columns are kept, or GPTQ-updated).
      for (Eigen::Index j = 0; j < weight.cols(); ++j) {
        if (kept.mask()[static_cast<std::size_t>(j)]) continue;
        error_squares += (q.weight.col(j) - weight.col(j)).cast<double>().squaredNorm();
        weight_squares += weight.col(j).cast<double>().squaredNorm();
      }
      result.steps.emplace(model::layer_name(b, p) + (options.group_size == 0 ? ".delta" : ".group_delta"),
                           std::move(q.steps));
      if constexpr (std::is_same_v<Backend, backend::eigen>) {
        if (options.storage != gift::weight_storage::f32) {
          model.replace_linear(b, p, std::make_unique<model::stored_linear<float>>(q.weight, options.storage));
          if (on_layer) on_layer();
          continue;
        }
      }
      model.replace_linear(b, p, std::make_unique<model::frozen_linear<float, Backend>>(
                                     backend_storage<Backend, float>::from_host(q.weight)));
      if (on_layer) on_layer();
    }
  }
  result.relative_error_non_salient = weight_squares > 0 ? std::sqrt(error_squares / weight_squares) : 0.0;
  return result;
}

}  // namespace gift::pipeline
