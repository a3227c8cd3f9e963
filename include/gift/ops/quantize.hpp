#pragma once
/// \file ops/quantize.hpp
/// \brief Quantization operation tags and the result types every backend returns.
///
/// Scales are stored as `rows × groups` matrices (one column when the whole row is one group),
/// in the backend's matrix type: `gift::matrix<float>` on Eigen, `gift::thrust_matrix` on Thrust.

#include <cstddef>
#include <string>

namespace gift {

/// Output of a symmetric quantizer on one backend. `FloatMatrix` is the backend's float matrix,
/// `CodeMatrix` its int8 matrix.
template <class FloatMatrix, class CodeMatrix>
struct symmetric_quantized {
  int bits = 0;                ///< bit-width b
  std::size_t group_size = 0;  ///< columns per scale group; 0: one group per row
  FloatMatrix alpha;           ///< clipping value α per (row, group), rows × groups
  FloatMatrix delta;           ///< step Δ = α / (2^(b−1) − 1) per (row, group), rows × groups
  CodeMatrix codes;            ///< integer codes in [−2^(b−1), 2^(b−1) − 1], rows × cols
  FloatMatrix dequantized;     ///< Δ · code, rows × cols
};

/// Output of an asymmetric (min/max) quantizer on one backend.
template <class FloatMatrix, class CodeMatrix>
struct asymmetric_quantized {
  int bits = 0;                ///< bit-width b
  std::size_t group_size = 0;  ///< columns per scale group; 0: one group per row
  FloatMatrix scale;           ///< step per (row, group), rows × groups
  FloatMatrix zero;            ///< zero point (an integer in [0, 2^b − 1]) per (row, group)
  CodeMatrix codes;            ///< unsigned codes in [0, 2^b − 1], rows × cols
  FloatMatrix dequantized;     ///< (code − zero) · scale, rows × cols
};

namespace ops {
/// Operation tag: α search (and optionally codes) of the symmetric per-row/group quantizer.
struct symmetric_quantize {
  /// Printable name.
  static std::string name() { return "symmetric_quantize"; }
};
/// Operation tag: codes of the symmetric quantizer with given steps Δ.
struct symmetric_codes {
  /// Printable name.
  static std::string name() { return "symmetric_codes"; }
};
/// Operation tag: asymmetric min/max quantizer.
struct asymmetric_quantize {
  /// Printable name.
  static std::string name() { return "asymmetric_quantize"; }
};
}  // namespace ops

}  // namespace gift
