// Hugging Face checkpoint folders: tokenizer.json / tokenizer_config.json written and read back
// (same vocabulary, kinds, merges, special ids, same encodings), unsupported tokenizers refused by
// name; weights as one file or as shards with an index (same tensors), a corrupt index refused,
// a rewrite in the other layout leaves no stale files.
#include <boost/test/unit_test.hpp>

#include "expect_error.hpp"

#include <gift/io/hf_checkpoint.hpp>
#include <gift/io/hf_tokenizer.hpp>
#include <gift/io/tokenizer.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

// Every case of this file belongs to the CTest test io_hf_checkpoint (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(io_hf_checkpoint)

namespace io = gift::io;
namespace fs = std::filesystem;

namespace {

using gift_test::expect_error;

std::string symbol(unsigned char byte) {
  std::string s;
  io::append_utf8(s, io::byte_to_unicode(byte));
  return s;
}

// Every byte symbol, a few merges ("Ġ t" -> "Ġt", "Ġt h" -> "Ġth", "Ġth e" -> "Ġthe", "1 2" -> "12"),
// two control tokens and one user-defined token.
io::tokenizer small_tokenizer(io::pre_tokenizer_kind pre, bool add_bos) {
  std::vector<std::string> tokens{"<|endoftext|>", "<|im_start|>", "<extra>"};
  std::vector<io::token_kind> kinds{io::token_kind::control, io::token_kind::control, io::token_kind::user_defined};
  for (unsigned b = 0; b < 256; ++b) {
    tokens.push_back(symbol(static_cast<unsigned char>(b)));
    kinds.push_back(io::token_kind::normal);
  }
  const std::string g = symbol(' ');
  for (const std::string& t : {g + "t", g + "th", g + "the", std::string("12")}) {
    tokens.push_back(t);
    kinds.push_back(io::token_kind::normal);
  }
  const std::vector<std::string> merges{g + " t", g + "t h", g + "th e", "1 2"};
  return io::tokenizer(tokens, merges, kinds, pre, io::special_token_ids{1, 0, -1, 0}, add_bos);
}

const std::vector<std::string> texts{"the cat and the 12 dogs", "<|im_start|>user <extra> 1234 the",
                                     "<|endoftext|> \xc3\xa9t\xc3\xa9 \xe2\x9c\x93", ""};

void same_tokenizer(const io::tokenizer& a, const io::tokenizer& b) {
  BOOST_TEST_REQUIRE(a.vocab_size() == b.vocab_size());
  for (std::size_t i = 0; i < a.vocab_size(); ++i) {
    BOOST_TEST(a.tokens()[i] == b.tokens()[i]);
    BOOST_TEST(static_cast<int>(a.kinds()[i]) == static_cast<int>(b.kinds()[i]));
  }
  BOOST_TEST_REQUIRE(a.merges().size() == b.merges().size());
  for (std::size_t i = 0; i < a.merges().size(); ++i) BOOST_TEST(a.merges()[i] == b.merges()[i]);
  BOOST_TEST(a.special().bos == b.special().bos);
  BOOST_TEST(a.special().eos == b.special().eos);
  BOOST_TEST(a.special().unk == b.special().unk);
  BOOST_TEST(a.special().pad == b.special().pad);
  BOOST_TEST(a.add_bos_by_default() == b.add_bos_by_default());
  BOOST_TEST((a.pre_tokenizer() == b.pre_tokenizer()));
  for (const auto& text : texts) {
    for (const bool special : {false, true}) {
      BOOST_TEST(a.encode(text, {.parse_special = special}) == b.encode(text, {.parse_special = special}), text);
    }
  }
}

fs::path fresh_folder(const std::string& name) {
  const fs::path folder = fs::temp_directory_path() / ("gift_hf_test_" + name);
  fs::remove_all(folder);
  return folder;
}

void write_text(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

io::hf_checkpoint_writer sample_writer(std::uint64_t shard_bytes) {
  io::hf_checkpoint_writer out(shard_bytes);
  out.add_text_file("config.json", "{\"model_type\": \"llama\", \"hidden_size\": 4, \"rms_norm_eps\": 1e-05, "
                                   "\"tie_word_embeddings\": true, \"name\": \"x\", \"nothing\": null}");
  for (int t = 0; t < 5; ++t) {
    gift::matrix<float> m(3, 4);
    for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(t * 100 + i) / 8.0f;
    out.add_matrix("tensor." + std::to_string(t), m, t == 3 ? io::safetensors_dtype::bf16 : io::safetensors_dtype::f32);
  }
  out.add_vector("vector", (gift::vector<float>(2) << 1.5f, -2.0f).finished(), io::safetensors_dtype::f16);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hf_tokenizer_files)

BOOST_AUTO_TEST_CASE(written_tokenizer_reads_back_identical) {
  for (const auto pre : {io::pre_tokenizer_kind::gpt2, io::pre_tokenizer_kind::gpt2_digits}) {
    for (const bool add_bos : {false, true}) {
      const io::tokenizer original = small_tokenizer(pre, add_bos);
      io::hf_tokenizer_extras extras{"{{ messages }}\n\"quoted\"", 2048};
      const io::hf_tokenizer back = io::parse_hf_tokenizer(io::hf_tokenizer_json(original),
                                                           io::hf_tokenizer_config_json(original, extras));
      same_tokenizer(original, back.tokenizer);
      BOOST_TEST(back.extras.chat_template == extras.chat_template);
      BOOST_TEST(back.extras.model_max_length == 2048);
    }
  }
  // The digit split matters: "1234" is 1 2 3 4 with it, 12 3 4 without.
  const auto digits = small_tokenizer(io::pre_tokenizer_kind::gpt2_digits, false).encode("1234");
  const auto plain = small_tokenizer(io::pre_tokenizer_kind::gpt2, false).encode("1234");
  BOOST_TEST(digits.size() == 4u);
  BOOST_TEST(plain.size() == 3u);
}

BOOST_AUTO_TEST_CASE(special_tokens_come_from_the_config_or_the_fallback) {
  const io::tokenizer original = small_tokenizer(io::pre_tokenizer_kind::gpt2, false);
  const std::string json = io::hf_tokenizer_json(original);
  // Without tokenizer_config.json the fallback (config.json's ids) decides.
  const auto fallback = io::parse_hf_tokenizer(json, "", io::special_token_ids{0, 1, -1, -1});
  BOOST_TEST(fallback.tokenizer.special().bos == 0);
  BOOST_TEST(fallback.tokenizer.special().eos == 1);
  // A token named as an AddedToken object.
  const auto named = io::parse_hf_tokenizer(json, "{\"eos_token\": {\"content\": \"<extra>\"}, \"bos_token\": null}");
  BOOST_TEST(named.tokenizer.special().eos == 2);
  BOOST_TEST(named.tokenizer.special().bos == -1);
  expect_error([&] { (void)io::parse_hf_tokenizer(json, "{\"eos_token\": \"<nope>\"}"); }, "'<nope>', which is not in the vocabulary");
}

BOOST_AUTO_TEST_CASE(merges_as_strings_or_pairs_are_read) {
  const io::tokenizer original = small_tokenizer(io::pre_tokenizer_kind::gpt2, false);
  std::string json = io::hf_tokenizer_json(original);
  // Rewrite the "a b" strings as pairs ["a", "b"] (what tokenizers >= 0.20 writes): same tokenizer.
  std::string legacy = json;
  for (const std::string& merge : original.merges()) {
    const std::size_t space = merge.find(' ');
    // Appended piece by piece: GCC 12 reports a false -Wrestrict on "[" + string.
    std::string pair(1, '[');
    pair.append(gift::detail::json_quote(merge.substr(0, space))).append(", ");
    pair.append(gift::detail::json_quote(merge.substr(space + 1))).append(1, ']');
    const std::string quoted = gift::detail::json_quote(merge);
    const std::size_t at = legacy.find(quoted, legacy.find("\"merges\""));
    BOOST_TEST_REQUIRE(at != std::string::npos, quoted);
    legacy.replace(at, quoted.size(), pair);
  }
  BOOST_TEST_REQUIRE(legacy.find("\"merges\": [\n      [") != std::string::npos);
  same_tokenizer(original, io::parse_hf_tokenizer(legacy, io::hf_tokenizer_config_json(original, {})).tokenizer);
}

BOOST_AUTO_TEST_CASE(unsupported_tokenizers_are_refused_by_name) {
  const std::string json = io::hf_tokenizer_json(small_tokenizer(io::pre_tokenizer_kind::gpt2, false));
  const auto replaced = [&](const std::string& from, const std::string& to) {
    std::string out = json;
    const std::size_t at = out.find(from);
    BOOST_TEST_REQUIRE(at != std::string::npos, from);
    return out.replace(at, from.size(), to);
  };
  expect_error([&] { (void)io::parse_hf_tokenizer(replaced("\"type\": \"BPE\"", "\"type\": \"WordPiece\""), ""); },
               "model type 'WordPiece' is not supported");
  expect_error([&] { (void)io::parse_hf_tokenizer(replaced("\"normalizer\": null", "\"normalizer\": {\"type\": \"NFC\"}"), ""); },
               "a normalizer is set");
  expect_error([&] { (void)io::parse_hf_tokenizer(replaced("\"byte_fallback\": false", "\"byte_fallback\": true"), ""); },
               "'byte_fallback' is set");
  expect_error([&] { (void)io::parse_hf_tokenizer(replaced("\"add_prefix_space\": false", "\"add_prefix_space\": true"), ""); },
               "add_prefix_space=true is not supported");
  expect_error([&] {
    (void)io::parse_hf_tokenizer(replaced("{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": true},\n  \"post",
                                          "{\"type\": \"Metaspace\"},\n  \"post"), "");
  }, "'Metaspace' is not supported");
  expect_error([&] { (void)io::parse_hf_tokenizer(replaced(": 258,", ": 9999,"), ""); }, "do not cover 0..");
  expect_error([&] { (void)io::parse_hf_tokenizer(replaced(": 258,", ": 257,"), ""); }, "is given to both");
  expect_error([&] { (void)io::parse_hf_tokenizer(json.substr(0, json.size() / 2), ""); }, "byte offset");
}

BOOST_AUTO_TEST_CASE(tokens_that_json_cannot_hold_are_refused) {
  std::vector<std::string> tokens{"a", "b", "\xff"};
  const io::tokenizer bad(tokens, std::vector<std::string>{}, {}, io::pre_tokenizer_kind::gpt2);
  expect_error([&] { (void)io::hf_tokenizer_json(bad); }, "not valid UTF-8");
  const io::tokenizer unknown(std::vector<std::string>{"a", "b"}, std::vector<std::string>{},
                              {io::token_kind::normal, io::token_kind::unused}, io::pre_tokenizer_kind::gpt2);
  expect_error([&] { (void)io::hf_tokenizer_json(unknown); }, "cannot express");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(hf_checkpoint_folders)

BOOST_AUTO_TEST_CASE(single_and_sharded_weights_read_back_the_same) {
  const fs::path single = fresh_folder("single"), sharded = fresh_folder("sharded");
  const auto single_files = sample_writer(0).write(single);
  const auto shard_files = sample_writer(100).write(sharded);  // each 48-byte matrix; two per shard
  BOOST_TEST(single_files.size() == 1u);
  BOOST_TEST(shard_files.size() == 3u);
  BOOST_TEST(shard_files.front() == "model-00001-of-00003.safetensors");
  BOOST_TEST(fs::exists(sharded / "model.safetensors.index.json"));
  const auto a = io::hf_checkpoint::open(single), b = io::hf_checkpoint::open(sharded);
  BOOST_TEST(a.tensor_names() == b.tensor_names());
  BOOST_TEST(a.tensor_names().size() == 6u);
  BOOST_TEST(b.weight_files().size() == 3u);
  for (const auto& name : a.tensor_names()) {
    const gift::matrix<float> x = a.read_matrix(name), y = b.read_matrix(name);
    BOOST_TEST(((x.array() == y.array()).all() && x.rows() == y.rows()), name);
  }
  BOOST_TEST(a.read_matrix("tensor.2")(1, 3) == (200 + 7) / 8.0f);
  BOOST_TEST(a.read_vector("vector")(1) == -2.0f);
  BOOST_TEST(a.weights_metadata().at("format") == "pt");
  // config.json accessors.
  BOOST_TEST(a.config_integer("hidden_size") == 4);
  BOOST_TEST(a.config_number("rms_norm_eps") == 1e-5);
  BOOST_TEST(a.config_bool("tie_word_embeddings", false));
  BOOST_TEST(a.config_string("model_type") == "llama");
  BOOST_TEST(a.config_integer("nothing", 7) == 7);  // null counts as absent
  expect_error([&] { (void)a.config_integer("missing"); }, "config.json has no \"missing\"");
  expect_error([&] { (void)a.config_integer("rms_norm_eps"); }, "must be an integer");
  expect_error([&] { (void)a.read_matrix("tensor.9"); }, "no tensor 'tensor.9'");
  fs::remove_all(single);
  fs::remove_all(sharded);
}

// Found by io_fuzz_config in CI: a huge number where an integer belongs was cast to int64 before
// any range check (undefined behaviour; UBSan aborts). It must be refused with its value.
BOOST_AUTO_TEST_CASE(integers_outside_int64_are_refused_not_cast) {
  const fs::path folder = fresh_folder("huge_integers");
  sample_writer(0).write(folder);
  {
    std::ofstream config(folder / "config.json", std::ios::trunc);
    config << R"({"model_type": "llama", "huge": 1e300, "tiny": -1e300, "edge": 9223372036854775808,)"
           << R"( "max": 9223372036854775807, "min": -9223372036854775808, "half": 2.5, "word": "x"})";
  }
  const auto a = io::hf_checkpoint::open(folder);
  expect_error([&] { (void)a.config_integer("huge"); }, "\"huge\" must be an integer in [-2^63, 2^63), but it is 1e+300");
  expect_error([&] { (void)a.config_integer("tiny"); }, "but it is -1e+300");
  expect_error([&] { (void)a.config_integer("edge"); }, "\"edge\" must be an integer");  // 2^63 itself
  expect_error([&] { (void)a.config_integer("half"); }, "but it is 2.5");
  expect_error([&] { (void)a.config_integer("word"); }, "but it is a string");
  // The extremes that fit as doubles: -2^63 exactly; 2^63 - 1 rounds to 2^63 as a double and is refused.
  BOOST_TEST(a.config_integer("min") == std::numeric_limits<std::int64_t>::min());
  expect_error([&] { (void)a.config_integer("max"); }, "\"max\" must be an integer");
  fs::remove_all(folder);
}

BOOST_AUTO_TEST_CASE(rewriting_in_the_other_layout_leaves_no_stale_files) {
  const fs::path folder = fresh_folder("relayout");
  sample_writer(100).write(folder);
  sample_writer(0).write(folder);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(folder)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  BOOST_TEST((names == std::vector<std::string>{"config.json", "model.safetensors"}));
  sample_writer(100).write(folder);
  BOOST_TEST(!fs::exists(folder / "model.safetensors"));
  BOOST_TEST(io::hf_checkpoint::open(folder).weight_files().size() == 3u);
  fs::remove_all(folder);
}

BOOST_AUTO_TEST_CASE(corrupt_folders_are_refused) {
  const fs::path folder = fresh_folder("corrupt");
  expect_error([&] { (void)io::hf_checkpoint::open(folder); }, "is not a folder");
  fs::create_directories(folder);
  expect_error([&] { (void)io::hf_checkpoint::open(folder); }, "has no config.json");
  write_text(folder / "config.json", "[1, 2]");
  expect_error([&] { (void)io::hf_checkpoint::open(folder); }, "must hold a JSON object");
  write_text(folder / "config.json", "{\"a\": 1");
  expect_error([&] { (void)io::hf_checkpoint::open(folder); }, "config.json");
  write_text(folder / "config.json", "{}");
  expect_error([&] { (void)io::hf_checkpoint::open(folder); }, "the weights are missing");
  sample_writer(100).write(folder);
  const std::string index = "model.safetensors.index.json";
  write_text(folder / index, "{\"weight_map\": {\"tensor.0\": \"model-00009-of-00009.safetensors\"}}");
  expect_error([&] { (void)io::hf_checkpoint::open(folder); }, "cannot open");
  write_text(folder / index, "{\"weight_map\": {\"tensor.4\": \"model-00001-of-00003.safetensors\"}}");
  expect_error([&] { (void)io::hf_checkpoint::open(folder); }, "which does not hold it");
  write_text(folder / index, "{\"weight_map\": {\"tensor.0\": \"../x.safetensors\"}}");
  expect_error([&] { (void)io::hf_checkpoint::open(folder); }, "not a file in the folder");
  write_text(folder / index, "{\"weight_map\": [1]}");
  expect_error([&] { (void)io::hf_checkpoint::open(folder); }, "\"weight_map\" object");
  write_text(folder / "model-00001-of-00003.safetensors", "short");
  write_text(folder / index, "{\"weight_map\": {\"tensor.0\": \"model-00001-of-00003.safetensors\"}}");
  expect_error([&] { (void)io::hf_checkpoint::open(folder); }, "byte offset 0");
  fs::remove_all(folder);
}

BOOST_AUTO_TEST_CASE(writer_refuses_bad_input) {
  io::hf_checkpoint_writer out;
  std::vector<float> values{1.0f, std::numeric_limits<float>::quiet_NaN()};
  expect_error([&] { out.add_values("x", {2}, values); }, "value 1 is nan");
  out.add_values("y", {1}, std::vector<float>{1.0f});
  expect_error([&] { out.add_values("y", {1}, std::vector<float>{1.0f}); }, "added twice");
  expect_error([&] { out.add_values("z", {3}, std::vector<float>{1.0f}); }, "its shape holds 3");
  expect_error([&] { out.add_text_file("model.safetensors", ""); }, "is a weights file name");
  expect_error([&] { (void)out.write(fresh_folder("noconfig")); }, "no config.json");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END()  // io_hf_checkpoint
