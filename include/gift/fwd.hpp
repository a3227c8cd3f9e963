#pragma once
/// \file gift/fwd.hpp
/// \brief Forward declarations and the library's defaults, in one place.

#include <Eigen/Core>

#include <cstdint>

namespace gift {

/// Dense row-major matrix on the CPU: gift's weight and activation type (`out × in` weights,
/// `tokens × features` activations, as in PyTorch).
template <class T>
using matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Dense column vector on the CPU.
template <class T>
using vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

/// A batch of token-id sequences, one per row (`batch × sequence`), as the tokenizer, the text
/// data sets and the model use it.
using token_matrix = Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// fp32 row-major matrix.
using matrix_f = matrix<float>;
/// fp32 vector.
using vector_f = vector<float>;

namespace backend {
struct eigen;
template <class System>
struct thrust;
struct cuda;
struct none;
}  // namespace backend

// Norm policies (norm.hpp).
struct l1;
struct l2;
struct linf;
template <int P>
struct lp;

/// Default number of salient columns per layer (the paper's 128 of 4096).
inline constexpr int default_salient_columns = 128;
/// Default quantization bit-width.
inline constexpr int default_bits = 4;
/// Smallest bit-width gift's quantizers accept.
inline constexpr int min_quant_bits = 2;
/// Largest bit-width gift's quantizers accept (codes are stored in 8-bit integers).
inline constexpr int max_quant_bits = 8;

}  // namespace gift
