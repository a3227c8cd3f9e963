// An ablation sweep over metric policies on the real model, written against the library's
// harness (gift/model/metric_sweep.hpp): calibrate SmolLM2 on linux-doc train text, then for every
// metric of a type_list and every bit-width select 3.125% salient columns per layer, quantize the
// rest (paper's α grid) with the salient columns kept in fp32, and report the perplexity on
// linux-doc validation text.
//
//   example_ablation_sweep model.gguf [calibration tokens = 2048] [evaluation tokens = 2048]
//
// Needs Debian's linux-doc-6.1 (bash .ci/setup). The CLI's `gift sweep` runs larger grids from a
// config file; this is the same computation as a researcher writes it in C++.
#include <gift/io/text_data.hpp>
#include <gift/io/tokenizer.hpp>
#include <gift/metric.hpp>
#include <gift/model/load_gguf.hpp>
#include <gift/model/metric_sweep.hpp>
#include <gift/quant/symmetric.hpp>
#include <gift/type_list.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace gm = gift::model;

namespace {
using metrics = gift::type_list<gift::gift_sw, gift::quik, gift::owq, gift::wanda_columns,
                                gift::sensitivity<gift::l2, gift::linf, std::ratio<1>, gift::quantization_error<gift::int4>>>;

// Sequences of 257 ids: 256 inputs and their shifted targets.
std::vector<gift::token_matrix> batches_of(const std::vector<std::int32_t>& ids, std::size_t tokens) {
  std::vector<std::int32_t> head(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(std::min(tokens, ids.size())));
  const gift::token_matrix all = gift::io::pack_sequences(head, 257, 256);
  std::vector<gift::token_matrix> out;
  for (Eigen::Index r = 0; r < all.rows(); r += 4) out.push_back(all.middleRows(r, std::min<Eigen::Index>(4, all.rows() - r)));
  return out;
}

double perplexity(gm::llama_model<float>& model, const std::vector<gift::token_matrix>& batches) {
  gm::loss_sum total;
  for (const auto& batch : batches) total += model.evaluate(batch);
  return total.perplexity();
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s model.gguf [calibration tokens] [evaluation tokens]\n", argv[0]);
    return 2;
  }
  try {
    const std::size_t calibration_tokens = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 2048;
    const std::size_t evaluation_tokens = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 2048;
    const auto file = gift::io::gguf_file::open(argv[1]);
    auto model = gm::load_llama(file);
    const auto tokenizer = gift::io::tokenizer::from_gguf(file);
    const std::string root = "/usr/share/doc/linux-doc-6.1/Documentation";
    const auto split = gift::io::split_by_file(gift::io::list_text_files(root, {".rst.gz"}), 0.1);
    // A few hundred files are plenty for a few thousand tokens.
    const auto take = [](const std::vector<std::string>& files) {
      return std::vector<std::string>(files.begin(), files.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(files.size(), 200)));
    };
    const auto calibration = batches_of(gift::io::tokenize_files(root, take(split.train), tokenizer, tokenizer.special().eos),
                                        calibration_tokens);
    const auto evaluation = batches_of(gift::io::tokenize_files(root, take(split.validation), tokenizer, tokenizer.special().eos),
                                       evaluation_tokens);
    const auto start = std::chrono::steady_clock::now();
    const auto stats = gm::collect_activation_stats(model, calibration);
    std::printf("original model: perplexity %.3f on %zu validation batches\n", perplexity(model, evaluation),
                evaluation.size());

    // The dense weights, to restore after each cell.
    std::vector<gift::matrix_f> original;
    for (int b = 0; b < model.config().layers; ++b)
      for (gm::projection p : gm::all_projections) original.push_back(model.linear(b, p).effective_weight());

    std::printf("%-56s %4s %12s\n", "metric", "bits", "perplexity");
    for (const int bits : {3, 4}) {
      const gift::symmetric_options quantizer{bits, gift::alpha_search::paper_grid(), 0};
      gm::metric_sweep<metrics>(model, stats, quantizer, {0, 0.03125}, [&]<class Metric>(const gm::model_selection& salient) {
        for (int b = 0; b < model.config().layers; ++b) {
          for (gm::projection p : gm::all_projections) {
            const auto id = static_cast<std::size_t>(gm::layer_id(b, p));
            auto q = gift::quantize_symmetric(original[id], quantizer, salient[id]);
            gift::restore_salient_columns(q.dequantized, original[id], salient[id]);
            model.replace_linear(b, p, std::make_unique<gm::frozen_linear<float>>(std::move(q.dequantized)));
          }
        }
        std::printf("%-56s %4d %12.3f\n", Metric::name().c_str(), bits, perplexity(model, evaluation));
        for (int b = 0; b < model.config().layers; ++b)
          for (gm::projection p : gm::all_projections)
            model.replace_linear(b, p, std::make_unique<gm::frozen_linear<float>>(original[static_cast<std::size_t>(gm::layer_id(b, p))]));
      });
    }
    std::printf("%.1f s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "example_ablation_sweep: %s\n", e.what());
    return 1;
  }
}
