// GPTQ with salient columns in full precision against round-to-nearest on a real SmolLM2 layer,
// with real calibration activations: the model runs over Linux kernel documentation, a hook
// collects the inputs of one MLP projection, and both quantizers (same bits, same α search, same
// salient columns) are compared on the layer-output error ‖X Wᵀ − X Ŵᵀ‖ — on the calibration
// tokens (GPTQ's objective) and on held-out tokens (generalisation).
#include <boost/test/unit_test.hpp>

#include <gift/gift.hpp>
#include <gift/io/text_data.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

// Every case of this file belongs to the CTest test model_gptq_real_layer (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(model_gptq_real_layer)

namespace {
constexpr const char* docs_root = "/usr/share/doc/linux-doc-6.1/Documentation";

std::string model_path() {
  const char* path = std::getenv("GIFT_MODEL");
  return path ? path : GIFT_SMOLLM2_GGUF_PATH;
}

bool inputs_available() {
  const bool present = std::filesystem::exists(model_path()) && std::filesystem::exists(docs_root);
  if (!present) {
    const bool allowed = std::getenv("GIFT_ALLOW_MISSING_MODEL") && std::string(std::getenv("GIFT_ALLOW_MISSING_MODEL")) == "1";
    std::fprintf(stderr, "%s: the SmolLM2 model (%s) or linux-doc-6.1 is missing; run `bash .ci/setup`\n",
                 allowed ? "SKIP" : "ERROR", model_path().c_str());
    if (!allowed) BOOST_FAIL("model or linux-doc missing");
  }
  return present;
}

double output_error(const gift::matrix<double>& x, const gift::matrix_f& weights, const gift::matrix_f& approx) {
  return (x * (weights.cast<double>() - approx.cast<double>()).transpose()).norm();
}
}  // namespace

BOOST_AUTO_TEST_CASE(gptq_beats_rtn_on_a_real_layer) {
  if (!inputs_available()) return;
  const auto file = gift::io::gguf_file::open(model_path());
  auto model = gift::model::load_llama(file);
  const auto tokenizer = gift::io::tokenizer::from_gguf(file);

  // Real text: the first training files of the deterministic linux-doc split.
  const auto files = gift::io::list_text_files(docs_root, {".rst.gz"});
  const auto split = gift::io::split_by_file(files, 0.1);
  std::vector<std::string> some(split.train.begin(), split.train.begin() + 40);
  const std::vector<std::int32_t> ids = gift::io::tokenize_files(docs_root, some, tokenizer);
  // GPTQ needs more calibration tokens than the layer has inputs (576), or H is rank-deficient and
  // the compensation overfits: 2048 calibration tokens, 512 held out.
  constexpr Eigen::Index sequence = 128, calibration_sequences = 16, sequences = 20;
  BOOST_TEST_REQUIRE(static_cast<Eigen::Index>(ids.size()) >= sequence * sequences);

  // Inputs of the `up` projection (576 → 1536) of block 4, every position.
  constexpr int block = 4;
  std::vector<gift::matrix<double>> inputs;
  model.set_calibration_hook([&](int b, gift::model::projection p, const gift::matrix_f& x) {
    if (b == block && p == gift::model::projection::up) inputs.push_back(x.cast<double>());
  });
  for (Eigen::Index s = 0; s < sequences; ++s) {
    gift::model::token_matrix tokens(1, sequence);
    for (Eigen::Index t = 0; t < sequence; ++t) tokens(0, t) = ids[static_cast<std::size_t>(s * sequence + t)];
    (void)model.evaluate(tokens);
  }
  BOOST_TEST_REQUIRE(inputs.size() == static_cast<std::size_t>(sequences));
  const Eigen::Index width = inputs[0].cols();
  gift::matrix<double> calibration(calibration_sequences * sequence, width);
  gift::matrix<double> held_out((sequences - calibration_sequences) * sequence, width);
  for (Eigen::Index s = 0; s < sequences; ++s) {
    auto& target = s < calibration_sequences ? calibration : held_out;
    const Eigen::Index row = (s < calibration_sequences ? s : s - calibration_sequences) * sequence;
    target.middleRows(row, sequence) = inputs[static_cast<std::size_t>(s)];
  }

  const gift::matrix_f weights = model.linear(block, gift::model::projection::up).effective_weight();
  gift::activation_stats stats(static_cast<std::size_t>(weights.cols()));
  gift::gram_accumulator gram(static_cast<std::size_t>(weights.cols()));
  const gift::matrix_f calibration_f = calibration.cast<float>();
  stats.update(calibration_f);
  gram.update(calibration_f);
  const auto salient = gift::select_salient(gift::column_sensitivity<gift::gift_sw>(weights, stats), gift::fraction{0.03});

  for (int bits : {3, 4}) {
    const auto search = gift::alpha_search::paper_grid();
    const auto rtn = gift::quantize_symmetric(weights, gift::symmetric_options{bits, search, 0}, salient);
    gift::matrix_f rtn_weights = rtn.dequantized;
    gift::restore_salient_columns(rtn_weights, weights, salient);
    gift::gptq_options options;
    options.bits = bits;
    options.search = search;
    const auto gptq = gift::gptq(weights, gram.gram(), salient, options);

    const double rtn_cal = output_error(calibration, weights, rtn_weights);
    const double gptq_cal = output_error(calibration, weights, gptq.weights);
    const double rtn_held = output_error(held_out, weights, rtn_weights);
    const double gptq_held = output_error(held_out, weights, gptq.weights);
    BOOST_TEST_MESSAGE(bits << " bits: calibration error GPTQ " << gptq_cal << " vs RTN " << rtn_cal
                            << "; held-out " << gptq_held << " vs " << rtn_held);
    BOOST_TEST(gptq_cal < rtn_cal, bits << " bits, calibration tokens");
    BOOST_TEST(gptq_held < rtn_held, bits << " bits, held-out tokens");
    // Salient columns are never quantized: RTN keeps them exactly, GPTQ only moves them by the
    // error compensation it adds.
    for (auto j : salient.indices()) BOOST_TEST((rtn_weights.col(j).array() == weights.col(j).array()).all());
  }
}

BOOST_AUTO_TEST_SUITE_END()  // model_gptq_real_layer
