// Models in and out (tiny synthetic models; the real SmolLM2 round trips are in
// tests/model/hf_reference.py and tests/tools/export.py):
// - q/k rows: llama.cpp's permutation by hand, and its inverse;
// - GGUF-order model -> Hugging Face folder -> model: every tensor bit-identical, same logits,
//   tied and untied, one file and shards; F16/BF16 folders give the rounded tensors;
// - model -> GGUF (F32) -> model: bit-identical; Q8_0 within its step; the tokenizer carried;
// - packed: a quantized model packed in memory computes the dense model's logits bit for bit;
//   saved and loaded (Hugging Face row order in the file) it still does; corrupt packed folders
//   and unsupported configurations are refused by name;
// - configuration values out of range (config.json and GGUF metadata: sizes past their caps or
//   narrowed from 64 bits, eps and theta infinite or not positive) are refused naming the key, in
//   a child under an address-space limit, so a refusal after a multi-GB allocation fails the
//   test instead of the machine; a config.json key given twice is refused by name.
#include <boost/test/unit_test.hpp>

#include "child_process.hpp"
#include "expect_error.hpp"

#include <gift/io/gguf.hpp>
#include <gift/io/hf_checkpoint.hpp>
#include <gift/model/hf_checkpoint.hpp>
#include <gift/model/load_gguf.hpp>
#include <gift/model/open_model.hpp>
#include <gift/model/packed_linear.hpp>
#include <gift/model/save_gguf.hpp>
#include <gift/model/synthetic.hpp>
#include <gift/quant/symmetric.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

// Every case of this file belongs to the CTest test model_hf_checkpoint (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(model_hf_checkpoint)

namespace gm = gift::model;
namespace io = gift::io;
namespace fs = std::filesystem;

namespace {

using gift_test::expect_error;

// A byte-level tokenizer of exactly `vocab` tokens: two control tokens, single letters, merges.
io::tokenizer tiny_tokenizer(int vocab) {
  std::vector<std::string> tokens{"<|endoftext|>", "<|im_start|>"};
  std::vector<io::token_kind> kinds{io::token_kind::control, io::token_kind::control};
  const std::string letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  for (std::size_t i = 0; static_cast<int>(tokens.size()) < vocab - 2; ++i) {
    tokens.emplace_back(1, letters.at(i));
    kinds.push_back(io::token_kind::normal);
  }
  tokens.emplace_back("ab");
  tokens.emplace_back("abc");
  kinds.insert(kinds.end(), 2, io::token_kind::normal);
  return io::tokenizer(tokens, std::vector<std::string>{"a b", "ab c"}, kinds, io::pre_tokenizer_kind::gpt2_digits,
                       io::special_token_ids{1, 0, -1, 0});
}

gm::model_card tiny_card() {
  gm::model_card card;
  card.name = "tiny \"test\" model";
  card.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}";
  return card;
}

gm::token_matrix prompt(int vocab) {
  gm::token_matrix t(2, 9);
  for (Eigen::Index i = 0; i < t.size(); ++i) t.data()[i] = static_cast<std::int32_t>((i * 7 + 3) % vocab);
  return t;
}

// Every tensor of the two models compared with `same` (a predicate on two matrices).
template <class Same>
void compare_models(gm::llama_model<float>& a, gm::llama_model<float>& b, Same&& same) {
  const auto& c = a.config();
  BOOST_TEST(b.config().layers == c.layers);
  BOOST_TEST(b.config().hidden == c.hidden);
  BOOST_TEST(b.config().kv_heads == c.kv_heads);
  BOOST_TEST(b.config().tied_embeddings == c.tied_embeddings);
  BOOST_TEST(b.config().rope_base == c.rope_base);
  BOOST_TEST(b.config().rms_epsilon == c.rms_epsilon);
  BOOST_TEST(same(a.token_embedding(), b.token_embedding()));
  BOOST_TEST(same(a.output_head(), b.output_head()));
  BOOST_TEST(same(gift::matrix<float>(a.output_norm().transpose()), gift::matrix<float>(b.output_norm().transpose())));
  for (int blk = 0; blk < c.layers; ++blk) {
    BOOST_TEST(same(gift::matrix<float>(a.norms(blk).attention.transpose()), gift::matrix<float>(b.norms(blk).attention.transpose())));
    BOOST_TEST(same(gift::matrix<float>(a.norms(blk).feed_forward.transpose()),
                    gift::matrix<float>(b.norms(blk).feed_forward.transpose())));
    for (const auto p : gm::all_projections)
      BOOST_TEST(same(a.linear(blk, p).effective_weight(), b.linear(blk, p).effective_weight()),
                 "block " << blk << " " << gm::short_name(p));
  }
}

fs::path fresh(const std::string& name) {
  const fs::path path = fs::temp_directory_path() / ("gift_model_io_" + name);
  fs::remove_all(path);
  return path;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_text(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  BOOST_TEST_REQUIRE(at != std::string::npos, from);
  return text.replace(at, from.size(), to);
}

// `text` (a JSON object written one member per line) with the value of `key` replaced by `value`.
std::string with_value(std::string text, const std::string& key, const std::string& value) {
  const std::string name = "\"" + key + "\": ";
  const std::size_t at = text.find(name);
  BOOST_TEST_REQUIRE(at != std::string::npos, key);
  const std::size_t start = at + name.size();
  const std::size_t end = text.find_first_of(",\n", start);
  return text.replace(start, end - start, value);
}

// What `action` did in a forked child whose address space may grow by only 1 GiB: the text of
// the gift::error it threw (code 0), or code 1 (no error), 3 (std::bad_alloc: it allocated for
// the bad value before refusing it), 4 (another exception); `seconds` it took.
struct bounded_outcome {
  int code = -1;
  std::string message;
};

template <class Action>
bounded_outcome run_with_bounded_memory(Action&& action) {
  auto [code, message] = gift_test::run_in_child([&](std::string& text) {
    long pages = 0;
    std::ifstream("/proc/self/statm") >> pages;  // mapped now, in pages
    const auto mapped = static_cast<rlim_t>(pages) * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE));
    const rlimit limit{mapped + (rlim_t{1} << 30), RLIM_INFINITY};
    int outcome = ::setrlimit(RLIMIT_AS, &limit) == 0 ? 1 : 5;
    const auto start = std::chrono::steady_clock::now();
    try {
      if (outcome == 1) action();
    } catch (const gift::error& e) {
      outcome = 0;
      text = e.what();
    } catch (const std::bad_alloc&) {
      outcome = 3;
    } catch (...) {
      outcome = 4;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // Slow means the value was acted on before it was checked.
    if (outcome == 0 && seconds > 10) outcome = 6;
    return outcome;
  });
  return {code, std::move(message)};
}

// The model with every layer quantized to `bits` (absmax RTN) on all but every 5th column.
struct quantized_model {
  gm::llama_model<float> model;
  std::vector<gm::packing_plan> plans;  // by layer id
};

quantized_model quantize(gm::llama_model<float> model, int bits) {
  std::vector<gm::packing_plan> plans;
  for (int b = 0; b < model.config().layers; ++b) {
    for (const auto p : gm::all_projections) {
      const gift::matrix<float> w = model.linear(b, p).effective_weight();
      std::vector<std::int64_t> indices;
      for (std::int64_t j = (b + static_cast<int>(p)) % 5; j < w.cols(); j += 5) indices.push_back(j);
      const auto salient = gift::salient_columns::from_indices(indices, static_cast<std::size_t>(w.cols()));
      auto q = gift::quantize_symmetric(w, gift::symmetric_options{bits, gift::alpha_search::max_abs(), 0}, salient);
      gift::matrix<float> mixed = q.dequantized;
      gift::restore_salient_columns(mixed, w, salient);
      model.replace_linear(b, p, std::make_unique<gm::frozen_linear<float>>(std::move(mixed)));
      plans.push_back({q.delta.col(0), salient});
    }
  }
  return {std::move(model), std::move(plans)};
}

}  // namespace

BOOST_AUTO_TEST_CASE(qk_rows_follow_llama_cpp_permutation) {
  // One head of width 4: llama.cpp's permute takes HF rows (0, 1 | 2, 3) to (0, 2, 1, 3).
  BOOST_TEST((gm::hf_rows_of_gguf(4, 4) == std::vector<std::int64_t>{0, 2, 1, 3}));
  // Two heads of width 6: each head's halves interleaved.
  BOOST_TEST((gm::hf_rows_of_gguf(12, 6) == std::vector<std::int64_t>{0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11}));
  const auto order = gm::hf_rows_of_gguf(24, 8);
  const auto back = gm::inverse_order(order);
  for (std::size_t i = 0; i < order.size(); ++i) BOOST_TEST(back[static_cast<std::size_t>(order[i])] == static_cast<std::int64_t>(i));
  expect_error([] { (void)gm::hf_rows_of_gguf(10, 4); }, "do not form heads");
}

BOOST_AUTO_TEST_CASE(hf_folder_round_trip_is_bit_identical) {
  for (const bool tied : {true, false}) {
    for (const std::uint64_t shard : {std::uint64_t{0}, std::uint64_t{20000}}) {
      auto config = gm::tiny_llama_config(2, 24, 6, 2, 40, 50);
      config.tied_embeddings = tied;
      config.rope_base = 500000;
      auto model = gm::make_synthetic_llama<float>(config, 7);
      const auto tok = tiny_tokenizer(config.vocab);
      const fs::path folder = fresh("hf");
      gm::save_hf(model, tok, tiny_card(), folder, {io::safetensors_dtype::f32, io::safetensors_dtype::f16, shard});
      BOOST_TEST(fs::exists(folder / "model.safetensors.index.json") == (shard != 0));
      BOOST_TEST((gm::model_format_of(folder) == gm::model_format::hf));
      auto back = gm::open_llama(folder);
      compare_models(model, back, gift_test::bit_identical<gift::matrix<float>, gift::matrix<float>>);
      BOOST_TEST(gift_test::bit_identical(model.logits(prompt(config.vocab)), back.logits(prompt(config.vocab))));
      // The tokenizer and the card travel with the folder.
      const io::tokenizer tok_back = gm::open_tokenizer(folder);
      BOOST_TEST(tok_back.vocab_size() == tok.vocab_size());
      BOOST_TEST(tok_back.encode("abcab<|im_start|>", {.parse_special = true}) ==
                 tok.encode("abcab<|im_start|>", {.parse_special = true}));
      const gm::model_card card = gm::open_model_card(folder);
      BOOST_TEST(card.name == tiny_card().name);
      BOOST_TEST(card.chat_template == tiny_card().chat_template);
      fs::remove_all(folder);
    }
  }
}

BOOST_AUTO_TEST_CASE(hf_folder_in_half_precision_holds_the_rounded_tensors) {
  const auto config = gm::tiny_llama_config();
  auto model = gm::make_synthetic_llama<float>(config, 8);
  const auto tok = tiny_tokenizer(config.vocab);
  for (const auto dtype : {io::safetensors_dtype::f16, io::safetensors_dtype::bf16}) {
    const fs::path folder = fresh("hf_half");
    gm::save_hf(model, tok, {}, folder, {dtype, io::safetensors_dtype::f16, 0});
    BOOST_TEST(read_text(folder / "config.json").find(dtype == io::safetensors_dtype::f16 ? "\"float16\"" : "\"bfloat16\"") !=
               std::string::npos);
    auto back = gm::open_llama(folder);
    const auto round = [dtype](const gift::matrix<float>& m) {
      gift::matrix<float> out = m;
      for (Eigen::Index i = 0; i < out.size(); ++i)
        out.data()[i] = dtype == io::safetensors_dtype::f16 ? io::half_to_float(io::float_to_half(out.data()[i]))
                                                            : io::bfloat16_to_float(io::float_to_bfloat16(out.data()[i]));
      return out;
    };
    compare_models(model, back, [&](const gift::matrix<float>& a, const gift::matrix<float>& b) { return gift_test::bit_identical(round(a), b); });
    fs::remove_all(folder);
  }
}

BOOST_AUTO_TEST_CASE(gguf_round_trip_is_bit_identical_and_carries_the_tokenizer) {
  for (const bool tied : {true, false}) {
    auto config = gm::tiny_llama_config(2, 32, 4, 2, 64, 50);
    config.tied_embeddings = tied;
    config.rms_epsilon = static_cast<float>(1e-5);  // GGUF stores it as float32
    auto model = gm::make_synthetic_llama<float>(config, 9);
    const auto tok = tiny_tokenizer(config.vocab);
    gm::model_card card = tiny_card();
    card.gguf_general.push_back({"general.license", io::gguf_value::make(std::string("apache-2.0"))});
    const fs::path path = fresh("model.gguf");
    gm::save_gguf(model, tok, card, path, io::ggml_type::f32);
    const auto file = io::gguf_file::open(path);
    BOOST_TEST(file.metadata("general.license").as_string() == "apache-2.0");
    BOOST_TEST(file.metadata("tokenizer.ggml.pre").as_string() == "smollm");
    BOOST_TEST(file.metadata("llama.context_length").as_uint() == 128u);
    auto back = gm::load_llama(file);
    compare_models(model, back, gift_test::bit_identical<gift::matrix<float>, gift::matrix<float>>);
    BOOST_TEST(gift_test::bit_identical(model.logits(prompt(config.vocab)), back.logits(prompt(config.vocab))));
    const auto tok_back = io::tokenizer::from_gguf(file);
    BOOST_TEST((std::vector<std::string>(tok_back.merges().begin(), tok_back.merges().end()) ==
                std::vector<std::string>(tok.merges().begin(), tok.merges().end())));
    BOOST_TEST(tok_back.special().bos == 1);
    BOOST_TEST(static_cast<int>(tok_back.kind(1)) == static_cast<int>(io::token_kind::control));
    const auto card_back = gm::model_card::from_gguf(file);
    BOOST_TEST(card_back.name == card.name);
    BOOST_TEST(card_back.chat_template == card.chat_template);
    // Q8_0: every weight within half a step of its block (scale max|x| / 127).
    gm::save_gguf(model, tok, card, path, io::ggml_type::q8_0);
    auto q8 = gm::open_llama(path);
    compare_models(model, q8, [](const gift::matrix<float>& a, const gift::matrix<float>& b) {
      if (a.rows() == 1 || a.cols() == 1) return gift_test::bit_identical(a, b);  // norms stay F32
      return (a - b).cwiseAbs().maxCoeff() <= 0.6f * a.cwiseAbs().maxCoeff() / 127.0f;
    });
    fs::remove_all(path);
  }
}

BOOST_AUTO_TEST_CASE(packed_model_computes_the_dense_models_logits_bit_for_bit) {
  for (const int bits : {2, 3, 4, 8}) {
    auto config = gm::tiny_llama_config(2, 24, 6, 2, 40, 50);
    auto quantized = quantize(gm::make_synthetic_llama<float>(config, static_cast<std::uint64_t>(10 + bits)), bits);
    const gift::matrix<float> dense_logits = quantized.model.logits(prompt(config.vocab));
    const auto dense_loss = quantized.model.evaluate(prompt(config.vocab));
    // The dense copy, to compare tensors after packing.
    auto dense = gm::make_synthetic_llama<float>(config, static_cast<std::uint64_t>(10 + bits));
    for (int b = 0; b < config.layers; ++b)
      for (const auto p : gm::all_projections)
        dense.replace_linear(b, p, std::make_unique<gm::frozen_linear<float>>(quantized.model.linear(b, p).effective_weight()));
    gm::pack_linear_layers(quantized.model, bits, [&](int b, gm::projection p) {
      return quantized.plans[static_cast<std::size_t>(gm::layer_id(b, p))];
    });
    BOOST_TEST(dynamic_cast<const gm::packed_linear*>(&quantized.model.linear(1, gm::projection::k)) != nullptr);
    BOOST_TEST(gift_test::bit_identical(quantized.model.logits(prompt(config.vocab)), dense_logits));
    BOOST_TEST(quantized.model.evaluate(prompt(config.vocab)).nll == dense_loss.nll);
    // Saved (salient columns in F32) and loaded: packed again, same logits; the file's q/k rows in HF order.
    const fs::path folder = fresh("packed");
    gm::save_packed(quantized.model, tiny_tokenizer(config.vocab), tiny_card(), folder,
                    {io::safetensors_dtype::f32, io::safetensors_dtype::f32, 0});
    BOOST_TEST((gm::model_format_of(folder) == gm::model_format::packed));
    BOOST_TEST(read_text(folder / "config.json").find("\"quant_method\": \"gift_packed\"") != std::string::npos);
    auto back = gm::open_llama(folder);
    BOOST_TEST(dynamic_cast<const gm::packed_linear*>(&back.linear(0, gm::projection::q)) != nullptr);
    BOOST_TEST(gift_test::bit_identical(back.logits(prompt(config.vocab)), dense_logits));
    compare_models(dense, back, gift_test::bit_identical<gift::matrix<float>, gift::matrix<float>>);
    const auto checkpoint = io::hf_checkpoint::open(folder);
    const auto [file, info] = checkpoint.tensor("model.layers.0.self_attn.q_proj.qweight");
    BOOST_TEST(info->dtype == io::safetensors_dtype::u32);
    // Row 1 of the file's q is HF row 1 = gift row 2 (head width 4: gift order 0, 2, 1, 3).
    const auto& packed_q = dynamic_cast<const gm::packed_linear&>(back.linear(0, gm::projection::q)).packed();
    const gift::matrix<float> file_rows = io::hf_checkpoint::open(folder).read_matrix("model.layers.0.self_attn.q_proj.delta");
    BOOST_TEST(file_rows(0, 1) == packed_q.delta()[2]);
    // Salient columns in F16: the dense model with those values rounded.
    gm::save_packed(quantized.model, tiny_tokenizer(config.vocab), {}, folder, {});
    auto half = gm::open_llama(folder);
    compare_models(dense, half, [](const gift::matrix<float>& a, const gift::matrix<float>& b) {
      return a.rows() == b.rows() && (a - b).cwiseAbs().maxCoeff() <= 1e-3f * a.cwiseAbs().maxCoeff();
    });
    fs::remove_all(folder);
  }
}

BOOST_AUTO_TEST_CASE(unpacked_or_off_grid_models_are_refused) {
  const auto config = gm::tiny_llama_config();
  auto model = gm::make_synthetic_llama<float>(config, 3);
  expect_error([&] { gm::save_packed(model, tiny_tokenizer(config.vocab), {}, fresh("nope"), {}); }, "is not packed");
  auto quantized = quantize(gm::make_synthetic_llama<float>(config, 4), 4);
  // Plans of 3 bits for 4-bit weights: the first layer that is off the 3-bit grid is named.
  expect_error([&] {
    gm::pack_linear_layers(quantized.model, 3, [&](int b, gm::projection p) {
      return quantized.plans[static_cast<std::size_t>(gm::layer_id(b, p))];
    });
  }, "block 0 layer q");
  // Nothing was replaced.
  BOOST_TEST(dynamic_cast<const gm::packed_linear*>(&quantized.model.linear(1, gm::projection::down)) == nullptr);
}

BOOST_AUTO_TEST_CASE(unsupported_or_corrupt_folders_are_refused_by_name) {
  const auto config = gm::tiny_llama_config();
  auto model = gm::make_synthetic_llama<float>(config, 5);
  const auto tok = tiny_tokenizer(config.vocab);
  const fs::path folder = fresh("refused");
  gm::save_hf(model, tok, {}, folder, {});
  const std::string config_json = read_text(folder / "config.json");
  const auto refuses = [&](const std::string& from, const std::string& to, const std::string& fragment) {
    write_text(folder / "config.json", replaced(config_json, from, to));
    expect_error([&] { (void)gm::open_llama(folder); }, fragment);
  };
  refuses("\"model_type\": \"llama\"", "\"model_type\": \"gpt2\"", "model_type is 'gpt2'");
  refuses("\"rope_scaling\": null", "\"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}", "rope_scaling is set");
  refuses("\"hidden_act\": \"silu\"", "\"hidden_act\": \"gelu\"", "hidden_act 'gelu'");
  refuses("\"attention_bias\": false", "\"attention_bias\": true", "no biases");
  refuses("\"head_dim\": 4", "\"head_dim\": 8", "head_dim 8 differs");
  refuses("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3", "no tensor 'model.layers.2.");
  refuses("\"vocab_size\": 50", "\"vocab_size\": 60", "has shape [50, 24], expected [60, 24]");
  refuses("\"tie_word_embeddings\": true", "\"tie_word_embeddings\": false", "no tensor 'lm_head.weight'");
  refuses("\"torch_dtype\"", "\"quantization_config\": {\"quant_method\": \"gptq\"}, \"torch_dtype\"",
          "names the method 'gptq'");
  write_text(folder / "config.json", config_json);
  // A tensor the model does not use.
  io::hf_checkpoint_writer extra;
  extra.add_text_file("config.json", config_json);
  {
    const auto source = io::hf_checkpoint::open(folder);
    for (const auto& name : source.tensor_names()) {
      if (source.tensor(name).second->shape.size() == 1) {
        extra.add_vector(name, source.read_vector(name));
      } else {
        extra.add_matrix(name, source.read_matrix(name));
      }
    }
  }
  extra.add_vector("model.layers.0.self_attn.q_proj.bias", gift::vector<float>::Zero(24));
  extra.write(folder);
  expect_error([&] { (void)gm::open_llama(folder); }, "tensor 'model.layers.0.self_attn.q_proj.bias' is not part");
  fs::remove_all(folder);

  // A packed folder with a bad format version or a damaged layer.
  auto quantized = quantize(gm::make_synthetic_llama<float>(config, 6), 4);
  gm::pack_linear_layers(quantized.model, 4, [&](int b, gm::projection p) {
    return quantized.plans[static_cast<std::size_t>(gm::layer_id(b, p))];
  });
  gm::save_packed(quantized.model, tok, {}, folder, {});
  const std::string packed_json = read_text(folder / "config.json");
  write_text(folder / "config.json", replaced(packed_json, "\"format_version\": 1", "\"format_version\": 2"));
  expect_error([&] { (void)gm::open_llama(folder); }, "format_version must be 1");
  write_text(folder / "config.json", replaced(packed_json, "\"bits\": 4", "\"bits\": 3"));
  expect_error([&] { (void)gm::open_llama(folder); }, "3-bit codes per row");
  write_text(folder / "config.json", packed_json);
  BOOST_TEST(gm::open_llama(folder).config().layers == 2);
  fs::remove_all(folder);
  // Partial RoPE cannot be written for transformers.
  auto partial = gm::tiny_llama_config();
  partial.rope_dim = 2;
  auto rotated = gm::make_synthetic_llama<float>(partial, 1);
  expect_error([&] { gm::save_hf(rotated, tok, {}, fresh("partial"), {}); }, "LlamaForCausalLM rotates whole heads");
  expect_error([&] { gm::save_hf(model, tiny_tokenizer(49), {}, fresh("wrong_vocab"), {}); }, "the tokenizer has 49 tokens");
}

BOOST_AUTO_TEST_CASE(config_json_values_out_of_range_are_refused_by_key_before_allocation) {
  const auto config = gm::tiny_llama_config();
  auto model = gm::make_synthetic_llama<float>(config, 5);
  const fs::path folder = fresh("ranges");
  gm::save_hf(model, tiny_tokenizer(config.vocab), {}, folder, {});
  const std::string config_json = read_text(folder / "config.json");
  struct bad_value {
    std::string key, value, fragment;
  };
  const std::vector<bad_value> cases = {
      {"rms_norm_eps", "1e999", "rms_norm_eps = inf is outside the accepted range: a finite number > 0; correct \"rms_norm_eps\" in config.json"},
      {"rms_norm_eps", "-1e-5", "rms_norm_eps = -1e-05 is outside the accepted range: a finite number > 0"},
      {"rope_theta", "0", "rope_theta = 0 is outside the accepted range: a finite number > 0; correct \"rope_theta\""},
      {"rope_theta", "1e999", "rope_theta = inf is outside the accepted range"},
      {"intermediate_size", "2147483647", "intermediate_size = 2147483647 is outside the accepted range [1, 1048576]; correct \"intermediate_size\" in config.json"},
      {"num_hidden_layers", "50000000", "num_hidden_layers = 50000000 is outside the accepted range [1, 4096]"},
      {"num_hidden_layers", "2147483647", "num_hidden_layers = 2147483647 is outside the accepted range [1, 4096]"},
      {"hidden_size", "4294967320", "hidden_size = 4294967320 is outside the accepted range [1, 1048576]"},  // 2^32 + 24
      {"vocab_size", "16777217", "vocab_size = 16777217 is outside the accepted range [1, 16777216]"},
      {"num_attention_heads", "0", "num_attention_heads = 0 is outside the accepted range [1, 1048576]"},
      {"num_attention_heads", "5", "hidden_size (24) must be a multiple of num_attention_heads (5)"},
      {"num_key_value_heads", "12", "num_key_value_heads = 12 is outside the accepted range [1, 6]"},
      {"num_key_value_heads", "4", "num_attention_heads (6) must be a multiple of num_key_value_heads (4)"},
      {"max_position_embeddings", "-1", "max_position_embeddings = -1 is outside the accepted range [0, 16777216]"},
  };
  for (const auto& bad : cases) {
    BOOST_TEST_CONTEXT(bad.key << " = " << bad.value) {
      write_text(folder / "config.json", with_value(config_json, bad.key, bad.value));
      const bounded_outcome outcome = run_with_bounded_memory([&] { (void)gm::open_llama(folder); });
      BOOST_TEST(outcome.code == 0, "child ended with code " << outcome.code << " (0: refused; 1: accepted; 3: "
                                        "std::bad_alloc; 6: refused after 10 s)");
      BOOST_TEST(outcome.message.find(bad.fragment) != std::string::npos,
                 "'" << outcome.message << "' lacks '" << bad.fragment << "'");
    }
  }
  // The values at the edges of the ranges are the file's own: it still loads.
  write_text(folder / "config.json", config_json);
  BOOST_TEST(gm::open_llama(folder).config().ffn == config.ffn);
  fs::remove_all(folder);
}

BOOST_AUTO_TEST_CASE(config_json_with_a_key_given_twice_is_refused_by_name) {
  const auto config = gm::tiny_llama_config();
  auto model = gm::make_synthetic_llama<float>(config, 5);
  const fs::path folder = fresh("twice");
  gm::save_hf(model, tiny_tokenizer(config.vocab), {}, folder, {});
  const std::string config_json = read_text(folder / "config.json");
  // transformers would take the file's own value (the last), gift's lookup 500000 (the first):
  // neither is guessed.
  write_text(folder / "config.json", replaced(config_json, "\"rope_theta\": ", "\"rope_theta\": 500000.0, \"rope_theta\": "));
  expect_error([&] { (void)gm::open_llama(folder); }, "config.json': key 'rope_theta' appears twice");
  // Inside a nested object too.
  write_text(folder / "config.json", replaced(config_json, "\"rope_scaling\": null", "\"rope_scaling\": {\"type\": 1, \"type\": 2}"));
  expect_error([&] { (void)gm::open_llama(folder); }, "key 'type' appears twice");
  write_text(folder / "config.json", config_json);
  BOOST_TEST(gm::open_llama(folder).config().rope_base == config.rope_base);
  fs::remove_all(folder);
}

BOOST_AUTO_TEST_CASE(gguf_config_values_out_of_range_are_refused_by_key) {
  const fs::path path = fresh("ranges.gguf");
  const auto u32 = [](std::uint32_t v) { return io::gguf_value::make(v); };
  // A GGUF file with a tiny model's metadata and embedding (no other tensor: only the
  // configuration is read), `key` set to `value`.
  const auto write_with = [&](const std::string& key, io::gguf_value value) {
    io::gguf_writer out;
    out.set_string("general.architecture", "llama");
    out.set("llama.block_count", u32(2));
    out.set("llama.embedding_length", u32(24));
    out.set("llama.feed_forward_length", u32(40));
    out.set("llama.attention.head_count", u32(6));
    out.set("llama.attention.head_count_kv", u32(2));
    out.set("llama.context_length", u32(128));
    out.set("llama.rope.freq_base", io::gguf_value::make(10000.0f));
    out.set("llama.attention.layer_norm_rms_epsilon", io::gguf_value::make(1e-5f));
    if (!key.empty()) out.set(key, std::move(value));
    out.add_tensor("token_embd.weight", gift::matrix<float>(gift::matrix<float>::Zero(50, 24)));
    out.write(path);
  };
  write_with("", {});
  BOOST_TEST(gm::llama_config::from_gguf(io::gguf_file::open(path)).layers == 2);
  const float infinity = std::numeric_limits<float>::infinity();
  const std::vector<std::pair<std::pair<std::string, io::gguf_value>, std::string>> cases = {
      {{"llama.attention.layer_norm_rms_epsilon", io::gguf_value::make(infinity)},
       "llama.attention.layer_norm_rms_epsilon = inf is outside the accepted range: a finite number > 0; correct "
       "\"llama.attention.layer_norm_rms_epsilon\" in the GGUF metadata"},
      {{"llama.rope.freq_base", io::gguf_value::make(0.0f)}, "llama.rope.freq_base = 0 is outside the accepted range"},
      // 2^32 + 2 blocks would be 2 once narrowed to int.
      {{"llama.block_count", io::gguf_value::make(std::uint64_t{4294967298})},
       "llama.block_count = 4294967298 is outside the accepted range [1, 4096]"},
      {{"llama.feed_forward_length", u32(2147483647)}, "llama.feed_forward_length = 2147483647 is outside the accepted range [1, 1048576]"},
      {{"llama.context_length", u32(4294967295u)}, "llama.context_length = 4294967295 is outside the accepted range [0, 16777216]"},
      {{"llama.attention.head_count_kv", u32(4)},
       "llama.attention.head_count (6) must be a multiple of llama.attention.head_count_kv (4)"},
  };
  for (const auto& [entry, fragment] : cases) {
    BOOST_TEST_CONTEXT(entry.first) {
      write_with(entry.first, entry.second);
      expect_error([&] { (void)gm::llama_config::from_gguf(io::gguf_file::open(path)); }, fragment);
    }
  }
  fs::remove(path);
}

BOOST_AUTO_TEST_SUITE_END()  // model_hf_checkpoint
