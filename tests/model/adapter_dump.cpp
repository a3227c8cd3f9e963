// adapter_dump <dir>: the C++ side of the peft comparison (peft_reference.py). Runs one LoRA and
// one DoRA layer in double — forward and backward for a fixed input and output gradient, away
// from the B = 0 start — and writes every input, output and gradient as text (%.17g, one row per
// line) for numpy to recompute with peft's formulas.
#include "fixtures.hpp"

#include <gift/model/dora_linear.hpp>
#include <gift/model/lora_linear.hpp>

#include <cstdio>
#include <string>

namespace {
using md = gift::matrix<double>;

void write(const std::string& dir, const std::string& name, const md& m) {
  const std::string path = dir + "/" + name + ".txt";
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) throw gift::error("adapter_dump: cannot write '" + path + "'");
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    for (Eigen::Index j = 0; j < m.cols(); ++j) std::fprintf(file, "%s%.17g", j ? " " : "", m(i, j));
    std::fprintf(file, "\n");
  }
  std::fclose(file);
}
md normal(Eigen::Index rows, Eigen::Index cols, std::uint32_t stream, float scale) {
  return gift_test::normal_matrix(rows, cols, stream, scale).cast<double>();
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: adapter_dump <output directory>\n");
    return 2;
  }
  const std::string dir = argv[1];
  const Eigen::Index out = 7, in = 11, tokens = 5, rank = 3;
  const double alpha = 6;
  const md base = normal(out, in, 1, 0.3f), x = normal(tokens, in, 2, 1.0f), g = normal(tokens, out, 3, 1.0f);
  write(dir, "base", base);
  write(dir, "x", x);
  write(dir, "dy", g);
  write(dir, "hyper", md{{static_cast<double>(rank), alpha}});

  gift::model::lora_linear<double> lora(base, {static_cast<int>(rank), alpha, 5, 0});
  lora.adapter().b() = normal(out, rank, 4, 0.4f);
  md y, dx;
  lora.forward(x, y, {true, 0, true});
  lora.backward(g, dx);
  write(dir, "lora_a", lora.adapter().a());
  write(dir, "lora_b", lora.adapter().b());
  write(dir, "lora_y", y);
  write(dir, "lora_dx", dx);
  write(dir, "lora_da", lora.adapter().grad_a());
  write(dir, "lora_db", lora.adapter().grad_b());
  write(dir, "lora_merged", lora.effective_weight());

  gift::model::dora_linear<double> dora(base, {static_cast<int>(rank), alpha, 6, 1});
  dora.adapter().b() = normal(out, rank, 7, 0.4f);
  dora.magnitude().array() *= 1.0 + 0.1 * normal(out, 1, 8, 1.0f).array();
  write(dir, "dora_a", dora.adapter().a());
  write(dir, "dora_b", dora.adapter().b());
  write(dir, "dora_m", dora.magnitude());
  dora.forward(x, y, {true, 0, true});
  dora.backward(g, dx);
  write(dir, "dora_y", y);
  write(dir, "dora_dx", dx);
  write(dir, "dora_da", dora.adapter().grad_a());
  write(dir, "dora_db", dora.adapter().grad_b());
  write(dir, "dora_dm", dora.magnitude_gradient());
  write(dir, "dora_merged", dora.effective_weight());
  return 0;
}
