#pragma once
/// \file gift/model/llama.hpp
/// \brief `gift::model::llama_model<T, Backend>`: a LLaMA-family decoder with forward (logits,
/// loss) and backward, whose 7 linear layers per block are pluggable `linear_module`s — one
/// template over the backend.
///
/// The decoder is written once: every step is a front-end function (`rms_norm_forward`,
/// `apply_rope`, `attention_forward`, `swiglu_forward`, `cross_entropy`, `gather_rows`,
/// `gift::multiply`) that runs on the backend of the matrices it is given. `llama_model<T>` (the
/// default, `backend::eigen`) is the CPU model; `llama_model<T, backend::thrust_omp>` (include
/// <gift/backend/thrust.hpp>) runs the same steps as Thrust algorithms and functors over
/// `thrust_matrix` with host GEMMs, the code path of `llama_model<float, backend::cuda>` (include
/// <gift/backend/cuda.cuh>), whose GEMMs are cuBLAS'. `to_backend<B>(model)` moves a model.
///
/// Block b computes, on the residual stream x (tokens × hidden):
///   n1 = RMSNorm(x); q, k, v = n1 Wqᵀ, n1 Wkᵀ, n1 Wvᵀ; RoPE(q, k); x += Wo·attention(q, k, v)
///   n2 = RMSNorm(x); x += Wdown · (silu(n2 Wgateᵀ) ∘ n2 Wupᵀ)
/// then the logits are RMSNorm(x) · Eᵀ (E the token embedding when tied). Embeddings, norms and
/// the head are frozen; only the linear modules can train. A training forward keeps exactly what
/// the backward needs: per block the residual input, q/k/v after RoPE, the residual after
/// attention, gate and up, and two inverse-RMS vectors.

#include <gift/backend/tags.hpp>
#include <gift/backend/traits.hpp>
#include <gift/concepts.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/model/attention.hpp>
#include <gift/model/config.hpp>
#include <gift/model/cross_entropy.hpp>
#include <gift/model/gather_rows.hpp>
#include <gift/model/kv_cache.hpp>
#include <gift/model/linear_module.hpp>
#include <gift/model/rms_norm.hpp>
#include <gift/model/rope.hpp>
#include <gift/model/swiglu.hpp>
#include <gift/model/tokens.hpp>
#include <gift/multiply.hpp>

#include <array>
#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <utility>
#include <vector>

namespace gift::model {

/// The frozen weights of one decoder block besides its linear layers, in `Backend`'s memory.
template <std::floating_point T, backend_tag Backend = backend::eigen>
struct block_norms {
  backend_vector_t<Backend, T> attention;     ///< RMSNorm weight before attention (`attn_norm`)
  backend_vector_t<Backend, T> feed_forward;  ///< RMSNorm weight before the feed-forward (`ffn_norm`)
};

/// Called with the input of every linear layer during a forward pass (calibration): the block,
/// the projection and the `tokens × in` input.
template <std::floating_point T, backend_tag Backend = backend::eigen>
using calibration_hook = std::function<void(int block, projection p, const backend_matrix_t<Backend, T>& input)>;

/// A LLaMA-family decoder on `Backend`. Move-only (it owns its linear modules).
template <std::floating_point T, backend_tag Backend = backend::eigen>
class llama_model {
public:
  /// The backend the model computes on.
  using backend_type = Backend;
  /// Activations and weights.
  using matrix_type = backend_matrix_t<Backend, T>;
  /// Norm weights and per-row statistics.
  using vector_type = backend_vector_t<Backend, T>;
  /// The linear layers of one block, indexed by `projection`.
  using block_linears = std::array<std::unique_ptr<linear_module<T, Backend>>, projections_per_block>;

  /// Assembles a model. `output_head` may be empty when `config.tied_embeddings` (the head is
  /// then the token embedding). Every shape is checked against `config`.
  /// \throws gift::error on a shape that does not fit `config` or a missing linear module.
  llama_model(llama_config config, matrix_type token_embedding, vector_type output_norm,
              std::vector<block_norms<T, Backend>> norms, std::vector<block_linears> linears,
              matrix_type output_head = {})
      : config_(config), embedding_(std::move(token_embedding)), output_norm_(std::move(output_norm)),
        norms_(std::move(norms)), linears_(std::move(linears)), output_head_(std::move(output_head)) {
    config_.validate();
    const char* where = "gift::model::llama_model";
    const std::int64_t hidden = config_.hidden, vocab = config_.vocab;
    gift::detail::require(rows_of(embedding_) == vocab && cols_of(embedding_) == hidden, where,
                          ": token_embedding must be ", vocab, " x ", hidden, ", but is ", embedding_.rows(), " x ",
                          embedding_.cols());
    gift::detail::require(size_of(output_norm_) == hidden, where, ": output_norm must have ", hidden, " values, has ",
                          output_norm_.size());
    gift::detail::require(config_.tied_embeddings ? output_head_.size() == 0
                                                  : (rows_of(output_head_) == vocab && cols_of(output_head_) == hidden),
                          where, ": output_head must be empty with tied embeddings, else ", vocab, " x ", hidden);
    gift::detail::require(
        norms_.size() == static_cast<std::size_t>(config_.layers) && linears_.size() == norms_.size(), where,
        ": expected ", config_.layers, " blocks of norms and linears, got ", norms_.size(), " and ", linears_.size());
    for (int b = 0; b < config_.layers; ++b) {
      const auto& n = norms_[static_cast<std::size_t>(b)];
      gift::detail::require(size_of(n.attention) == hidden && size_of(n.feed_forward) == hidden, where, ": block ",
                            b, " norms must have ", hidden, " values");
      for (projection p : all_projections) check_linear(b, p, linears_[static_cast<std::size_t>(b)][index(p)].get());
    }
  }

  /// The configuration.
  [[nodiscard]] const llama_config& config() const noexcept { return config_; }
  /// The token embedding (`vocab × hidden`).
  [[nodiscard]] const matrix_type& token_embedding() const noexcept { return embedding_; }
  /// The output head (`vocab × hidden`): the token embedding when tied.
  [[nodiscard]] const matrix_type& output_head() const noexcept {
    return config_.tied_embeddings ? embedding_ : output_head_;
  }
  /// The final RMSNorm weight.
  [[nodiscard]] const vector_type& output_norm() const noexcept { return output_norm_; }
  /// The norms of block `block`.
  [[nodiscard]] const block_norms<T, Backend>& norms(int block) const { return norms_.at(checked_block(block)); }

  /// The linear layer `p` of block `block`.
  [[nodiscard]] linear_module<T, Backend>& linear(int block, projection p) {
    return *linears_[checked_block(block)][index(p)];
  }
  /// \copydoc linear
  [[nodiscard]] const linear_module<T, Backend>& linear(int block, projection p) const {
    return *linears_[checked_block(block)][index(p)];
  }
  /// Puts `slot` in place of layer `p` of block `block` and returns the previous one (e.g. to
  /// read its weight, or to restore it). The new module must have the same in/out widths.
  std::unique_ptr<linear_module<T, Backend>> replace_linear(int block, projection p,
                                                            std::unique_ptr<linear_module<T, Backend>> slot) {
    check_linear(block, p, slot.get());
    return std::exchange(linears_[checked_block(block)][index(p)], std::move(slot));
  }

  /// Installs (or, with an empty function, removes) the calibration hook that sees the input
  /// of every linear layer in every forward pass.
  void set_calibration_hook(calibration_hook<T, Backend> hook) { hook_ = std::move(hook); }

  /// The logits of every position, `(batch · sequence) × vocab`, rows sequence after sequence
  /// (evaluation mode: no noise, nothing kept).
  [[nodiscard]] matrix_type logits(const token_matrix& tokens) {
    const matrix_type hidden = final_hidden(tokens, forward_context{}, nullptr);
    matrix_type result;
    gift::multiply(hidden, output_head(), result, right_factor::transposed);
    return result;
  }

  /// The logits of the last position of every sequence (`batch × vocab`): what generation needs.
  [[nodiscard]] matrix_type last_logits(const token_matrix& tokens) {
    const matrix_type hidden = final_hidden(tokens, forward_context{}, nullptr);
    std::vector<std::int32_t> last_rows(static_cast<std::size_t>(tokens.rows()));
    for (Eigen::Index b = 0; b < tokens.rows(); ++b)
      last_rows[static_cast<std::size_t>(b)] = static_cast<std::int32_t>((b + 1) * tokens.cols() - 1);
    matrix_type last, result;
    gather_rows(hidden, std::span<const std::int32_t>(last_rows), last);
    gift::multiply(last, output_head(), result, right_factor::transposed);
    return result;
  }

  /// Incremental decoding: runs `tokens` (the next positions of the sequence in `cache`) through
  /// the model in evaluation mode, attending to the cached positions, appends their keys and
  /// values to `cache`, and returns the logits of the last of them (`vocab` entries). Feeding a
  /// prompt and then one token at a time gives the logits `last_logits` gives for the whole
  /// sequence, at the cost of the new positions only.
  /// \throws gift::error when `tokens` is empty, holds an id outside the vocabulary, or would
  /// run past the context length.
  [[nodiscard]] vector<T> extend(kv_cache<T>& cache, std::span<const std::int32_t> tokens)
    requires std::same_as<Backend, backend::eigen>
  {
    const auto n = static_cast<Eigen::Index>(tokens.size());
    const Eigen::Index first = cache.length();
    gift::detail::require(n > 0, "gift::model::llama_model::extend: argument 'tokens' is empty");
    gift::detail::require(first + n <= cache.capacity(), "gift::model::llama_model::extend: positions ", first, " .. ",
                          first + n - 1, " exceed the context length ", cache.capacity(),
                          "; start a new sequence (cache.clear()) or shorten the prompt");
    cache.reserve(first + n);
    token_matrix row(1, n);
    for (Eigen::Index i = 0; i < n; ++i) row(0, i) = tokens[static_cast<std::size_t>(i)];
    detail::require_tokens(row, config_.vocab, "gift::model::llama_model::extend");
    matrix<T> x(n, config_.hidden);
    for (Eigen::Index i = 0; i < n; ++i) x.row(i) = embedding_.row(row(0, i));
    matrix<T> normed, q, k, v, attended, projected, gate, up, h;
    vector<T> rms;
    const forward_context context{};
    for (int b = 0; b < config_.layers; ++b) {
      const block_norms<T>& norm = norms_[static_cast<std::size_t>(b)];
      rms_norm_forward(x, norm.attention, config_.rms_epsilon, normed, rms);
      run_linear(b, projection::q, normed, q, context);
      run_linear(b, projection::k, normed, k, context);
      run_linear(b, projection::v, normed, v, context);
      apply_rope_from(q, config_.head_dim, cache.rope(), first);
      apply_rope_from(k, config_.head_dim, cache.rope(), first);
      cache.keys(b).middleRows(first, n) = k;
      cache.values(b).middleRows(first, n) = v;
      cached_attention(q, cache.keys(b), cache.values(b), first, config_.heads, config_.kv_heads, config_.head_dim,
                       attended);
      run_linear(b, projection::o, attended, projected, context);
      x += projected;
      rms_norm_forward(x, norm.feed_forward, config_.rms_epsilon, normed, rms);
      run_linear(b, projection::gate, normed, gate, context);
      run_linear(b, projection::up, normed, up, context);
      swiglu_forward(gate, up, h);
      run_linear(b, projection::down, h, projected, context);
      x += projected;
    }
    cache.advance(n);
    matrix<T> out;
    rms_norm_forward(matrix<T>(x.bottomRows(1)), output_norm_, config_.rms_epsilon, out, rms);
    matrix<T> logits;
    gift::multiply(out, output_head(), logits, right_factor::transposed);
    return logits.row(0).transpose();
  }

  /// Summed next-token negative log-likelihood of `tokens` (each sequence predicts its own
  /// tokens 1..T−1) in evaluation mode; add the results of several batches for a perplexity.
  [[nodiscard]] loss_sum evaluate(const token_matrix& tokens) {
    const matrix_type hidden = final_hidden(tokens, forward_context{}, nullptr);
    return cross_entropy(hidden, output_head(), next_token_targets(tokens));
  }

  /// `evaluate(tokens)`, keeping each sequence's own sum: `per_sequence[b]` becomes the loss of row
  /// `b` of `tokens` (its nll summed in position order, and its `cols − 1` predictions). The
  /// returned total is bit-identical to `evaluate(tokens)`: per-sequence losses let two models be
  /// compared paired, sequence by sequence (`gift::pipeline::evaluate`).
  [[nodiscard]] loss_sum evaluate(const token_matrix& tokens, std::vector<loss_sum>& per_sequence) {
    const matrix_type hidden = final_hidden(tokens, forward_context{}, nullptr);
    std::vector<double> rows;
    const loss_sum total =
        cross_entropy(hidden, output_head(), next_token_targets(tokens), static_cast<matrix_type*>(nullptr), 1.0, &rows);
    per_sequence.assign(static_cast<std::size_t>(tokens.rows()), loss_sum{});
    for (Eigen::Index b = 0; b < tokens.rows(); ++b) {
      loss_sum& sequence = per_sequence[static_cast<std::size_t>(b)];
      for (Eigen::Index t = 0; t + 1 < tokens.cols(); ++t) {
        sequence.nll += rows[static_cast<std::size_t>(b * tokens.cols() + t)];
        ++sequence.count;
      }
    }
    return total;
  }

  /// Every prediction's negative log-likelihood in evaluation mode: entry `(b, t)` is
  /// −log p(tokens(b, t + 1) | tokens(b, 0..t)), for `t < cols − 1` — what a multiple-choice
  /// score sums over the positions of one continuation (`gift::pipeline::score_choices`).
  [[nodiscard]] Eigen::MatrixXd token_losses(const token_matrix& tokens) {
    const matrix_type hidden = final_hidden(tokens, forward_context{}, nullptr);
    std::vector<double> rows;
    (void)cross_entropy(hidden, output_head(), next_token_targets(tokens), static_cast<matrix_type*>(nullptr), 1.0,
                        &rows);
    Eigen::MatrixXd out(tokens.rows(), tokens.cols() - 1);
    for (Eigen::Index b = 0; b < tokens.rows(); ++b)
      for (Eigen::Index t = 0; t + 1 < tokens.cols(); ++t) out(b, t) = rows[static_cast<std::size_t>(b * tokens.cols() + t)];
    return out;
  }

  /// A training forward and backward pass: mean next-token loss of `tokens` under `context`
  /// (`context.training` should be true for noise), then the gradient of that mean flows back
  /// through every block, and trainable linear modules accumulate their parameter gradients.
  /// Returns the summed loss (its `mean()` is what was differentiated).
  loss_sum forward_backward(const token_matrix& tokens, const forward_context& context) {
    saved_activations saved;
    forward_context recording = context;
    recording.record = true;
    const matrix_type hidden = final_hidden(tokens, recording, &saved);
    const std::vector<std::int32_t> targets = next_token_targets(tokens);
    std::int64_t count = 0;
    for (std::int32_t t : targets) count += t >= 0 ? 1 : 0;
    gift::detail::require(count > 0, "gift::model::llama_model::forward_backward: sequences of length ", tokens.cols(),
                    " predict nothing; use at least 2 tokens per sequence");
    matrix_type d_hidden;
    const loss_sum loss = cross_entropy(hidden, output_head(), targets, &d_hidden, 1.0 / static_cast<double>(count));
    backward(saved, std::move(d_hidden));
    return loss;
  }

  /// The target of each position: the next token of the same sequence, −1 at the last position.
  [[nodiscard]] static std::vector<std::int32_t> next_token_targets(const token_matrix& tokens) {
    std::vector<std::int32_t> targets(static_cast<std::size_t>(tokens.size()), -1);
    for (Eigen::Index b = 0; b < tokens.rows(); ++b) {
      for (Eigen::Index t = 0; t + 1 < tokens.cols(); ++t) {
        targets[static_cast<std::size_t>(b * tokens.cols() + t)] = tokens(b, t + 1);
      }
    }
    return targets;
  }

private:
  struct block_activations {
    matrix_type input, q, k, v, middle, gate, up;
    vector_type rms_attention, rms_feed_forward;
  };
  struct saved_activations {
    std::vector<block_activations> blocks;
    matrix_type final_input;
    vector_type final_rms;
    attention_shape shape;
    std::unique_ptr<rope_table<T, Backend>> rope;
  };

  template <class M>
  static std::int64_t rows_of(const M& m) noexcept {
    return static_cast<std::int64_t>(m.rows());
  }
  template <class M>
  static std::int64_t cols_of(const M& m) noexcept {
    return static_cast<std::int64_t>(m.cols());
  }
  template <class V>
  static std::int64_t size_of(const V& v) noexcept {
    return static_cast<std::int64_t>(v.size());
  }
  /// Frees an activation the backward pass no longer needs.
  template <class M>
  static void release(M& m) {
    m = M{};
  }

  static std::size_t index(projection p) noexcept { return static_cast<std::size_t>(p); }
  [[nodiscard]] std::size_t checked_block(int block) const {
    gift::detail::require(block >= 0 && block < config_.layers, "gift::model::llama_model: block ", block,
                    " is out of range [0, ", config_.layers, ")");
    return static_cast<std::size_t>(block);
  }
  void check_linear(int block, projection p, const linear_module<T, Backend>* slot) const {
    const Eigen::Index hidden = config_.hidden, kv = config_.kv_width(), ffn = config_.ffn;
    Eigen::Index in = hidden, out = hidden;
    switch (p) {
      case projection::q: case projection::o: break;
      case projection::k: case projection::v: out = kv; break;
      case projection::gate: case projection::up: out = ffn; break;
      case projection::down: in = ffn; break;
    }
    gift::detail::require(slot != nullptr, "gift::model::llama_model: block ", block, " layer ", short_name(p),
                    " has no module; every linear layer needs one (frozen_linear for a frozen layer)");
    gift::detail::require(slot->in_features() == in && slot->out_features() == out, "gift::model::llama_model: block ",
                    block, " layer ", short_name(p), " must map ", in, " -> ", out, " features, but maps ",
                    slot->in_features(), " -> ", slot->out_features());
  }

  void run_linear(int block, projection p, const matrix_type& x, matrix_type& y, const forward_context& context) {
    if (hook_) hook_(block, p, x);
    linears_[static_cast<std::size_t>(block)][index(p)]->forward(x, y, context);
  }

  /// Runs the decoder and returns RMSNorm(x_final) (tokens × hidden); fills `saved` if given.
  matrix_type final_hidden(const token_matrix& tokens, const forward_context& context, saved_activations* saved) {
    detail::require_tokens(tokens, config_.vocab, "gift::model::llama_model");
    const Eigen::Index batch = tokens.rows(), sequence = tokens.cols();
    const attention_shape shape{batch, sequence, config_.heads, config_.kv_heads, config_.head_dim};
    auto rope = std::make_unique<rope_table<T, Backend>>(sequence, config_.rope_dim, config_.rope_base);

    matrix_type x;
    gather_rows(embedding_, std::span<const std::int32_t>(tokens.data(), static_cast<std::size_t>(tokens.size())), x);

    matrix_type normed, q, k, v, attended, projected, gate, up, h;
    vector_type rms1, rms2;
    if (saved != nullptr) saved->blocks.resize(static_cast<std::size_t>(config_.layers));
    for (int b = 0; b < config_.layers; ++b) {
      const block_norms<T, Backend>& norm = norms_[static_cast<std::size_t>(b)];
      rms_norm_forward(x, norm.attention, config_.rms_epsilon, normed, rms1);
      run_linear(b, projection::q, normed, q, context);
      run_linear(b, projection::k, normed, k, context);
      run_linear(b, projection::v, normed, v, context);
      apply_rope(q, config_.head_dim, *rope);
      apply_rope(k, config_.head_dim, *rope);
      attention_forward(shape, q, k, v, attended);
      run_linear(b, projection::o, attended, projected, context);
      if (saved != nullptr) {
        block_activations& a = saved->blocks[static_cast<std::size_t>(b)];
        a.input = x;
        a.rms_attention = rms1;
        a.q = std::move(q);
        a.k = std::move(k);
        a.v = std::move(v);
      }
      x += projected;
      rms_norm_forward(x, norm.feed_forward, config_.rms_epsilon, normed, rms2);
      run_linear(b, projection::gate, normed, gate, context);
      run_linear(b, projection::up, normed, up, context);
      swiglu_forward(gate, up, h);
      run_linear(b, projection::down, h, projected, context);
      if (saved != nullptr) {
        block_activations& a = saved->blocks[static_cast<std::size_t>(b)];
        a.middle = x;
        a.rms_feed_forward = rms2;
        a.gate = std::move(gate);
        a.up = std::move(up);
      }
      x += projected;
    }
    matrix_type out;
    vector_type rms_final;
    rms_norm_forward(x, output_norm_, config_.rms_epsilon, out, rms_final);
    if (saved != nullptr) {
      saved->final_input = std::move(x);
      saved->final_rms = std::move(rms_final);
      saved->shape = shape;
      saved->rope = std::move(rope);
    }
    return out;
  }

  void backward(saved_activations& saved, matrix_type d_final) {
    // g: gradient of the loss with respect to the residual stream, flowing down the blocks.
    matrix_type g = backend_storage<Backend, T>::zeros(rows_of(d_final), cols_of(d_final));
    rms_norm_backward_add(d_final, saved.final_input, output_norm_, saved.final_rms, g);
    release(d_final);
    release(saved.final_input);
    matrix_type d_h, d_gate, d_up, d_normed, d_part, d_attended, dq, dk, dv;
    for (int b = config_.layers - 1; b >= 0; --b) {
      block_activations& a = saved.blocks[static_cast<std::size_t>(b)];
      const block_norms<T, Backend>& norm = norms_[static_cast<std::size_t>(b)];
      auto& layer = linears_[static_cast<std::size_t>(b)];
      // Feed-forward: x_out = middle + down(swiglu(gate, up)).
      layer[index(projection::down)]->backward(g, d_h);
      swiglu_backward(a.gate, a.up, d_h, d_gate, d_up);
      release(a.gate);
      release(a.up);
      layer[index(projection::gate)]->backward(d_gate, d_normed);
      layer[index(projection::up)]->backward(d_up, d_part);
      d_normed += d_part;
      rms_norm_backward_add(d_normed, a.middle, norm.feed_forward, a.rms_feed_forward, g);
      release(a.middle);
      // Attention: middle = input + o(attention(rope(q), rope(k), v)).
      layer[index(projection::o)]->backward(g, d_attended);
      attention_backward(saved.shape, a.q, a.k, a.v, d_attended, dq, dk, dv);
      release(a.q);
      release(a.k);
      release(a.v);
      apply_rope(dq, config_.head_dim, *saved.rope, /*inverse=*/true);
      apply_rope(dk, config_.head_dim, *saved.rope, /*inverse=*/true);
      layer[index(projection::q)]->backward(dq, d_normed);
      layer[index(projection::k)]->backward(dk, d_part);
      d_normed += d_part;
      layer[index(projection::v)]->backward(dv, d_part);
      d_normed += d_part;
      rms_norm_backward_add(d_normed, a.input, norm.attention, a.rms_attention, g);
      release(a.input);
    }
  }

  llama_config config_;
  matrix_type embedding_;
  vector_type output_norm_;
  std::vector<block_norms<T, Backend>> norms_;
  std::vector<block_linears> linears_;
  matrix_type output_head_;
  calibration_hook<T, Backend> hook_;
};

/// The model moved onto backend `To`: embedding, norms and head copied, and every linear layer a
/// `frozen_linear` of its `effective_weight()` (trained and merged). Trainable slots do not carry
/// their training state over: put new ones on the returned model. Works from and to any backend.
template <backend_tag To, std::floating_point T, backend_tag From>
[[nodiscard]] llama_model<T, To> to_backend(const llama_model<T, From>& model) {
  using from = backend_storage<From, T>;
  using to = backend_storage<To, T>;
  const llama_config& config = model.config();
  std::vector<block_norms<T, To>> norms(static_cast<std::size_t>(config.layers));
  std::vector<typename llama_model<T, To>::block_linears> linears(static_cast<std::size_t>(config.layers));
  for (int b = 0; b < config.layers; ++b) {
    norms[static_cast<std::size_t>(b)] = {to::from_host(from::to_host(model.norms(b).attention)),
                                          to::from_host(from::to_host(model.norms(b).feed_forward))};
    for (projection p : all_projections)
      linears[static_cast<std::size_t>(b)][static_cast<std::size_t>(p)] =
          std::make_unique<frozen_linear<T, To>>(to::from_host(model.linear(b, p).effective_weight()));
  }
  typename llama_model<T, To>::matrix_type head;
  if (!config.tied_embeddings) head = to::from_host(from::to_host(model.output_head()));
  return llama_model<T, To>(config, to::from_host(from::to_host(model.token_embedding())),
                            to::from_host(from::to_host(model.output_norm())), std::move(norms), std::move(linears),
                            std::move(head));
}

}  // namespace gift::model
