#pragma once
/// \file gift/backend/cuda/optim.cuh
/// \brief `gift::optim::cuda_adam`: Adam / AdamW on fp32 device blocks (the salient masters of
/// `cuda_gift_linear` layers), two moment buffers per trained element and nothing for frozen
/// weights. The arithmetic is `gift::optim::adam`'s, element for element.

#include <gift/backend/cuda/launch.cuh>
#include <gift/backend/thrust/system.hpp>
#include <gift/error.hpp>
#include <gift/optim/adam.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace gift::optim {

/// One trainable fp32 block in device memory.
struct device_parameter {
  float* value = nullptr;     ///< the fp32 master values
  float* gradient = nullptr;  ///< their gradient
  std::size_t size = 0;       ///< elements
  bool decay = true;          ///< apply weight decay
  std::string name;           ///< for messages
};

namespace detail {
struct adam_step_constants {
  float step_size, sqrt_correction2, beta1, beta2, one_minus_beta1, one_minus_beta2, epsilon, coupled, shrink;
};

// A template, so that the header may be included in many translation units without an ODR
// clash (nvcc ignores `inline` on kernels).
template <class Float>
__global__ void adam_step_kernel(Float* value, const Float* gradient, Float* m, Float* v, std::uint64_t size,
                                 adam_step_constants c) {
  for (std::uint64_t e = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x; e < size;
       e += static_cast<std::uint64_t>(gridDim.x) * blockDim.x) {
    Float p = value[e];
    Float g = gradient[e];
    if (c.coupled != 0.0f) g = __fadd_rn(g, __fmul_rn(c.coupled, p));
    if (c.shrink != 1.0f) p = __fmul_rn(p, c.shrink);
    const float m_new = __fadd_rn(__fmul_rn(c.beta1, m[e]), __fmul_rn(c.one_minus_beta1, g));
    const float v_new = __fadd_rn(__fmul_rn(c.beta2, v[e]), __fmul_rn(c.one_minus_beta2, __fmul_rn(g, g)));
    m[e] = m_new;
    v[e] = v_new;
    const float denominator = __fadd_rn(__fdiv_rn(__fsqrt_rn(v_new), c.sqrt_correction2), c.epsilon);
    value[e] = __fsub_rn(p, __fmul_rn(c.step_size, __fdiv_rn(m_new, denominator)));
  }
}
}  // namespace detail

/// Adam / AdamW over device blocks, with the options and formulas of `gift::optim::adam`.
class cuda_adam {
public:
  /// Takes the device blocks to train (they must outlive the optimizer) and the settings.
  /// \throws gift::error on bad settings.
  cuda_adam(std::vector<device_parameter> parameters, adam_options options = {})
      : parameters_(std::move(parameters)), options_(options) {
    // Reuse the CPU optimizer's checks of the settings.
    (void)adam<float>(std::vector<parameter<float>>{}, options_);
    for (const auto& p : parameters_) {
      first_moment_.emplace_back(p.size, 0.0f);
      second_moment_.emplace_back(p.size, 0.0f);
    }
  }

  /// One update with `learning_rate`.
  /// \throws gift::error on a negative or non-finite rate or a CUDA failure.
  void step(double learning_rate) {
    gift::detail::require(std::isfinite(learning_rate) && learning_rate >= 0.0,
                          "gift::optim::cuda_adam::step: argument 'learning_rate' must be finite and >= 0, but it is ",
                          learning_rate);
    ++steps_;
    const double t = static_cast<double>(steps_);
    for (std::size_t b = 0; b < parameters_.size(); ++b) {
      const auto& p = parameters_[b];
      if (p.size == 0) continue;
      const double lambda = p.decay ? options_.weight_decay : 0.0;
      const detail::adam_step_constants c{
          static_cast<float>(learning_rate / (1.0 - std::pow(options_.beta1, t))),
          static_cast<float>(std::sqrt(1.0 - std::pow(options_.beta2, t))),
          static_cast<float>(options_.beta1),
          static_cast<float>(options_.beta2),
          static_cast<float>(1.0 - options_.beta1),
          static_cast<float>(1.0 - options_.beta2),
          static_cast<float>(options_.epsilon),
          options_.decoupled ? 0.0f : static_cast<float>(lambda),
          static_cast<float>(1.0 - learning_rate * (options_.decoupled ? lambda : 0.0))};
      const auto shape = backend::grid_stride_shape(p.size);
      detail::adam_step_kernel<float><<<shape.blocks, shape.threads>>>(
          p.value, p.gradient, ::thrust::raw_pointer_cast(first_moment_[b].data()),
          ::thrust::raw_pointer_cast(second_moment_[b].data()), p.size, c);
      backend::check_cuda(cudaGetLastError(), "gift::optim::cuda_adam kernel");
    }
  }

  /// Clears the gradients.
  void zero_grad() {
    // All-zero bytes are +0.0f.
    for (auto& p : parameters_)
      backend::check_cuda(cudaMemset(p.gradient, 0, p.size * sizeof(float)), "gift::optim::cuda_adam::zero_grad");
  }

  /// Optimizer-state elements held: two per trained element.
  [[nodiscard]] std::size_t state_elements() const noexcept {
    std::size_t total = 0;
    for (std::size_t b = 0; b < first_moment_.size(); ++b) total += first_moment_[b].size() + second_moment_[b].size();
    return total;
  }

private:
  std::vector<device_parameter> parameters_;
  adam_options options_;
  std::vector<backend::thrust_vector_t<backend::system::cuda, float>> first_moment_, second_moment_;
  std::uint64_t steps_ = 0;
};

}  // namespace gift::optim
