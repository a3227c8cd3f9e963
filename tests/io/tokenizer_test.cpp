// Tokenizer pieces on hand-made inputs: UTF-8 classes, the GPT-2 split (checked against the
// regex by hand), BPE merge order, special tokens, decode, and construction from GGUF metadata.
#include <boost/test/unit_test.hpp>

#include <gift/io/detail/json.hpp>
#include <gift/io/tokenizer.hpp>

#include "gguf_builder.hpp"

#include <random>
#include <set>
#include <string>
#include <vector>

// Every case of this file belongs to the CTest test io_tokenizer (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(io_tokenizer)

using gift::io::encode_options;
using gift::io::pre_tokenizer_kind;
using gift::io::token_kind;
using gift::io::tokenizer;

namespace {

using pieces = std::vector<std::string>;

pieces split(std::string_view text, pre_tokenizer_kind kind) {
  pieces out;
  for (auto piece : gift::io::pre_tokenize(text, kind)) out.emplace_back(piece);
  return out;
}

std::string symbol_of(unsigned char byte) {
  std::string s;
  gift::io::append_utf8(s, gift::io::byte_to_unicode(byte));
  return s;
}

// A vocabulary of all 256 byte symbols (ids 0..255 in byte order) plus `extra` tokens.
std::vector<std::string> byte_vocabulary(std::vector<std::string> extra) {
  std::vector<std::string> tokens;
  for (unsigned b = 0; b < 256; ++b) tokens.push_back(symbol_of(static_cast<unsigned char>(b)));
  tokens.insert(tokens.end(), extra.begin(), extra.end());
  return tokens;
}

std::int32_t id_of(const tokenizer& t, const std::string& token) {
  const auto id = t.token_id(token);
  BOOST_TEST_REQUIRE(id >= 0, "token " << token << " missing");
  return id;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(unicode_classes)

BOOST_AUTO_TEST_CASE(utf8_decoding_is_lenient_and_exact) {
  using gift::io::decode_utf8;
  BOOST_TEST(static_cast<std::uint32_t>(decode_utf8("A", 0).value) == static_cast<std::uint32_t>(U'A'));
  BOOST_TEST(static_cast<std::uint32_t>(decode_utf8("\xc3\xa9", 0).value) == static_cast<std::uint32_t>(U'\u00e9'));
  BOOST_TEST(decode_utf8("\xc3\xa9", 0).length == 2u);
  BOOST_TEST(static_cast<std::uint32_t>(decode_utf8("\xe6\x97\xa5", 0).value) == static_cast<std::uint32_t>(U'\u65e5'));
  BOOST_TEST(static_cast<std::uint32_t>(decode_utf8("\xf0\x9f\x99\x82", 0).value) == static_cast<std::uint32_t>(U'\U0001F642'));
  BOOST_TEST(decode_utf8("\xf0\x9f\x99\x82", 0).length == 4u);
  for (std::string bad : {"\x80", "\xc3", "\xc0\x80", "\xed\xa0\x80", "\xf0\x9f\x99", "\xf5\x80\x80\x80", "\xff"}) {
    BOOST_TEST(static_cast<std::uint32_t>(decode_utf8(bad, 0).value) == static_cast<std::uint32_t>(U'\ufffd'));
    BOOST_TEST(decode_utf8(bad, 0).length == 1u);
  }
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_found_at_its_first_byte) {
  using gift::io::first_invalid_utf8;
  constexpr auto none = std::string_view::npos;
  BOOST_TEST(first_invalid_utf8("") == none);
  BOOST_TEST(first_invalid_utf8("plain \xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x99\x82") == none);
  BOOST_TEST(first_invalid_utf8("\xef\xbf\xbd") == none);  // U+FFFD itself is valid
  BOOST_TEST(first_invalid_utf8("ab\x80") == 2u);
  BOOST_TEST(first_invalid_utf8("ab\xe6\x97") == 2u);           // truncated at the end
  BOOST_TEST(first_invalid_utf8("\xc3\xa9\xc0\x80") == 2u);     // overlong
  BOOST_TEST(first_invalid_utf8("x\xed\xa0\x80") == 1u);         // a surrogate
}

// Every proper prefix of a character that more bytes could complete is held back; whole
// characters and bytes that no continuation repairs are kept. Brute force over code points of
// every length, after ASCII and after another character.
BOOST_AUTO_TEST_CASE(complete_prefix_never_splits_a_character) {
  using gift::io::complete_utf8_prefix;
  for (const char32_t cp : {U'\u00e9', U'\u0800', U'\u65e5', U'\ud7ff', U'\ue000', U'\uffff', U'\U00010000',
                            U'\U0001F642', U'\U0010FFFF'}) {
    std::string character;
    gift::io::append_utf8(character, cp);
    for (const std::string& before : {std::string(), std::string("ab"), std::string("\xc3\xa9")}) {
      BOOST_TEST(complete_utf8_prefix(before + character) == before.size() + character.size());
      for (std::size_t cut = 1; cut < character.size(); ++cut)
        BOOST_TEST(complete_utf8_prefix(before + character.substr(0, cut)) == before.size());
    }
  }
  BOOST_TEST(complete_utf8_prefix("") == 0u);
  BOOST_TEST(complete_utf8_prefix("abc") == 3u);
  // Nothing can complete these: they are kept (and replaced when written as JSON).
  for (const std::string_view never : {"a\x80", "a\xc0", "a\xff", "a\xe0\x80", "a\xed\xa0", "a\xf4\x90", "a\xf5",
                                  "a\x80\x80\x80\x80"})
    BOOST_TEST(complete_utf8_prefix(never) == never.size(), "kept: " << never.size() << " bytes");
}

// JSON literals are valid UTF-8 for any bytes, and valid text passes unchanged through them.
BOOST_AUTO_TEST_CASE(json_literals_are_always_valid_utf8) {
  std::mt19937 random(7);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string bytes(static_cast<std::size_t>(random() % 12), '\0');
    for (auto& b : bytes) b = static_cast<char>(random() % 256);
    const std::string quoted = gift::detail::json_quote(bytes);
    BOOST_TEST(gift::io::first_invalid_utf8(quoted) == std::string_view::npos);
    if (gift::io::first_invalid_utf8(bytes) == std::string_view::npos) {
      gift::detail::json_parser parser(quoted, "test");
      BOOST_TEST(parser.parse_document().string == bytes);
    }
  }
  BOOST_TEST(gift::detail::json_quote("\xe6\x97") == "\"\xef\xbf\xbd\xef\xbf\xbd\"");
}

BOOST_AUTO_TEST_CASE(letter_number_space_classes) {
  using gift::io::char_class;
  using gift::io::classify;
  BOOST_TEST((classify(U'a') == char_class::letter));
  BOOST_TEST((classify(U'\u00e9') == char_class::letter));   // é
  BOOST_TEST((classify(U'\u65e5') == char_class::letter));   // 日 (Lo)
  BOOST_TEST((classify(U'\u02b0') == char_class::letter));   // modifier letter (Lm)
  BOOST_TEST((classify(U'7') == char_class::number));
  BOOST_TEST((classify(U'\u0663') == char_class::number));   // Arabic-Indic three (Nd)
  BOOST_TEST((classify(U'\u216b') == char_class::number));   // Roman twelve (Nl)
  BOOST_TEST((classify(U'\u00bd') == char_class::number));   // ½ (No)
  BOOST_TEST((classify(U'\u00b2') == char_class::number));   // ² (No)
  BOOST_TEST((classify(U' ') == char_class::space));
  BOOST_TEST((classify(U'\u00a0') == char_class::space));
  BOOST_TEST((classify(U'\u3000') == char_class::space));
  BOOST_TEST((classify(U'\u200b') == char_class::other));    // zero width space is not White_Space
  BOOST_TEST((classify(U'!') == char_class::other));
  BOOST_TEST((classify(U'\u0301') == char_class::other));    // combining accent (Mn)
  BOOST_TEST((classify(U'\U0001F642') == char_class::other)); // emoji
  BOOST_TEST((classify(U'\U00020000') == char_class::letter)); // CJK extension B
}

BOOST_AUTO_TEST_CASE(byte_to_unicode_is_gpt2s_table) {
  using gift::io::byte_to_unicode;
  BOOST_TEST(static_cast<std::uint32_t>(byte_to_unicode(' ')) == 0x120u);   // 'Ġ'
  BOOST_TEST(static_cast<std::uint32_t>(byte_to_unicode('\n')) == 0x10Au);  // 'Ċ'
  BOOST_TEST(static_cast<std::uint32_t>(byte_to_unicode(0)) == 0x100u);
  BOOST_TEST(static_cast<std::uint32_t>(byte_to_unicode('A')) == static_cast<std::uint32_t>('A'));
  BOOST_TEST(static_cast<std::uint32_t>(byte_to_unicode(0xAD)) == 0x143u);  // soft hyphen is the last remapped
  std::set<char32_t> seen;
  for (unsigned b = 0; b < 256; ++b) seen.insert(byte_to_unicode(static_cast<std::uint8_t>(b)));
  BOOST_TEST(seen.size() == 256u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(pre_tokenizer)

// Expected pieces worked out by hand from the regex
// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
BOOST_AUTO_TEST_CASE(gpt2_regex_by_hand) {
  const auto gpt2 = pre_tokenizer_kind::gpt2;
  BOOST_TEST(split("Hello world", gpt2) == (pieces{"Hello", " world"}), boost::test_tools::per_element());
  BOOST_TEST(split("  leading", gpt2) == (pieces{" ", " leading"}), boost::test_tools::per_element());
  BOOST_TEST(split("a  \n b", gpt2) == (pieces{"a", "  \n", " b"}), boost::test_tools::per_element());
  BOOST_TEST(split("x   ", gpt2) == (pieces{"x", "   "}), boost::test_tools::per_element());
  BOOST_TEST(split("x\ny", gpt2) == (pieces{"x", "\n", "y"}), boost::test_tools::per_element());
  BOOST_TEST(split("don't they're I'll 'S", gpt2) == (pieces{"don", "'t", " they", "'re", " I", "'ll", " '", "S"}),
             boost::test_tools::per_element());
  BOOST_TEST(split("''s", gpt2) == (pieces{"''", "s"}), boost::test_tools::per_element());
  BOOST_TEST(split("hi!!! ok", gpt2) == (pieces{"hi", "!!!", " ok"}), boost::test_tools::per_element());
  BOOST_TEST(split("abc 123x", gpt2) == (pieces{"abc", " 123", "x"}), boost::test_tools::per_element());
  BOOST_TEST(split("na\xc3\xafve caf\xc3\xa9", gpt2) == (pieces{"na\xc3\xafve", " caf\xc3\xa9"}), boost::test_tools::per_element());
  BOOST_TEST(split("\xe6\x97\xa5\xe6\x9c\xac", gpt2) == (pieces{"\xe6\x97\xa5\xe6\x9c\xac"}), boost::test_tools::per_element());
  BOOST_TEST(split("x\xc2\xb2", gpt2) == (pieces{"x", "\xc2\xb2"}), boost::test_tools::per_element());        // x²
  BOOST_TEST(split("\xc2\xa0x", gpt2) == (pieces{"\xc2\xa0", "x"}), boost::test_tools::per_element());        // nbsp x
  BOOST_TEST(split("a \xc2\xa0 b", gpt2) == (pieces{"a", " \xc2\xa0", " b"}), boost::test_tools::per_element());
  BOOST_TEST(split("a\xe2\x80\x8b" "b", gpt2) == (pieces{"a", "\xe2\x80\x8b", "b"}), boost::test_tools::per_element());  // ZWSP
  BOOST_TEST(split("", gpt2).empty());
}

BOOST_AUTO_TEST_CASE(digits_are_isolated_first) {
  const auto digits = pre_tokenizer_kind::gpt2_digits;
  BOOST_TEST(split("abc 123x", digits) == (pieces{"abc", " ", "1", "2", "3", "x"}), boost::test_tools::per_element());
  BOOST_TEST(split("3.14", digits) == (pieces{"3", ".", "1", "4"}), boost::test_tools::per_element());
  BOOST_TEST(split("a 1", digits) == (pieces{"a", " ", "1"}), boost::test_tools::per_element());
  BOOST_TEST(split("x\xc2\xbd y", digits) == (pieces{"x", "\xc2\xbd", " y"}), boost::test_tools::per_element());  // ½
  BOOST_TEST(split("'9s", digits) == (pieces{"'", "9", "s"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(pieces_always_concatenate_to_the_input) {
  std::mt19937 rng(99);
  const std::vector<std::string> alphabet = {"a", "Z", " ", "  ", "\n", "\t", "'", "s", "ll", "7", "!", "\xc3\xa9",
                                             "\xe6\x97\xa5", "\xc2\xa0", "\xc2\xb2", "\xf0\x9f\x99\x82", "\xff", "\xc3", "-"};
  for (int trial = 0; trial < 2000; ++trial) {
    std::string text;
    for (int i = 0; i < 1 + static_cast<int>(rng() % 30); ++i) text += alphabet[rng() % alphabet.size()];
    for (auto kind : {pre_tokenizer_kind::gpt2, pre_tokenizer_kind::gpt2_digits}) {
      std::string joined;
      for (auto piece : gift::io::pre_tokenize(text, kind)) {
        BOOST_TEST(!piece.empty());
        joined += piece;
      }
      BOOST_TEST(joined == text);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bpe)

BOOST_AUTO_TEST_CASE(merges_apply_by_rank_then_leftmost) {
  const std::vector<std::string> rank_bc_first = {"b c", "a b", "ab c"};
  const tokenizer first(byte_vocabulary({"ab", "bc", "abc"}), rank_bc_first, {}, pre_tokenizer_kind::gpt2);
  // "abc": b+c has the lowest rank, and "a bc" is no merge: a | bc.
  BOOST_TEST(first.encode("abc") == (std::vector<std::int32_t>{'a', id_of(first, "bc")}), boost::test_tools::per_element());

  const std::vector<std::string> rank_ab_first = {"a b", "b c", "ab c"};
  const tokenizer second(byte_vocabulary({"ab", "bc", "abc"}), rank_ab_first, {}, pre_tokenizer_kind::gpt2);
  BOOST_TEST(second.encode("abc") == (std::vector<std::int32_t>{id_of(second, "abc")}), boost::test_tools::per_element());
  // Pieces are encoded separately: no merge across the split between "abc" and " abc".
  BOOST_TEST(second.encode("abc abc") == (std::vector<std::int32_t>{id_of(second, "abc"), ' ', id_of(second, "abc")}),
             boost::test_tools::per_element());

  const std::vector<std::string> aa = {"a a"};
  const tokenizer third(byte_vocabulary({"aa"}), aa, {}, pre_tokenizer_kind::gpt2);
  const auto pair = id_of(third, "aa");
  BOOST_TEST(third.encode("aaa") == (std::vector<std::int32_t>{pair, 'a'}), boost::test_tools::per_element());
  BOOST_TEST(third.encode("aaaa") == (std::vector<std::int32_t>{pair, pair}), boost::test_tools::per_element());
  BOOST_TEST(third.encode("aaaaa") == (std::vector<std::int32_t>{pair, pair, 'a'}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(space_symbol_merges) {
  const std::string g = symbol_of(' ');  // "Ġ"
  const std::vector<std::string> merges = {g + " t", "h e", g + "t he"};
  const tokenizer t(byte_vocabulary({g + "t", "he", g + "the"}), merges, {}, pre_tokenizer_kind::gpt2);
  BOOST_TEST(t.encode("the the") == (std::vector<std::int32_t>{'t', id_of(t, "he"), id_of(t, g + "the")}),
             boost::test_tools::per_element());
  BOOST_TEST(t.decode(t.encode("the the")) == "the the");
}

BOOST_AUTO_TEST_CASE(special_tokens_control_and_user_defined) {
  auto tokens = byte_vocabulary({"<a>", "<a>b", "<|user|>"});
  std::vector<token_kind> kinds(tokens.size(), token_kind::normal);
  kinds[256] = token_kind::control;
  kinds[257] = token_kind::control;
  kinds[258] = token_kind::user_defined;
  const tokenizer t(tokens, std::vector<std::string>{}, kinds, pre_tokenizer_kind::gpt2, {.bos = 256, .eos = 257, .unk = -1, .pad = -1});
  // Not parsed: the control text is ordinary bytes; user-defined tokens are always parsed.
  BOOST_TEST(t.encode("<a>b<|user|>") == (std::vector<std::int32_t>{'<', 'a', '>', 'b', 258}), boost::test_tools::per_element());
  // Parsed: the longest control token wins.
  BOOST_TEST(t.encode("x<a>bc<a>", {.parse_special = true}) == (std::vector<std::int32_t>{'x', 257, 'c', 256}),
             boost::test_tools::per_element());
  BOOST_TEST(t.encode("y", {.add_bos = true, .add_eos = true}) == (std::vector<std::int32_t>{256, 'y', 257}),
             boost::test_tools::per_element());
  const std::vector<std::int32_t> ids = {256, 'h', 'i', 258, 257};
  BOOST_TEST(t.decode(ids) == "<a>hi<|user|><a>b");
  BOOST_TEST(t.decode(ids, /*skip_special=*/true) == "hi<|user|>");
}

BOOST_AUTO_TEST_CASE(every_byte_string_round_trips) {
  const std::vector<std::string> merges = {"a b", "ab c"};
  const tokenizer t(byte_vocabulary({"ab", "abc"}), merges, {}, pre_tokenizer_kind::gpt2_digits);
  std::mt19937 rng(5);
  for (int trial = 0; trial < 500; ++trial) {
    std::string text;
    for (int i = 0; i < static_cast<int>(rng() % 40); ++i) text.push_back(static_cast<char>(rng() % 256));
    BOOST_TEST(t.decode(t.encode(text)) == text);
  }
}

BOOST_AUTO_TEST_CASE(errors) {
  const auto vocab = byte_vocabulary({"ab"});
  BOOST_CHECK_THROW(tokenizer(vocab, std::vector<std::string>{"ab"}, {}, pre_tokenizer_kind::gpt2), gift::error);       // no space
  BOOST_CHECK_THROW(tokenizer(vocab, std::vector<std::string>{"a b c"}, {}, pre_tokenizer_kind::gpt2), gift::error);    // two spaces
  BOOST_CHECK_THROW(tokenizer(vocab, std::vector<std::string>{"a c"}, {}, pre_tokenizer_kind::gpt2), gift::error);      // "ac" unknown
  BOOST_CHECK_THROW(tokenizer(vocab, std::vector<std::string>{}, {token_kind::normal}, pre_tokenizer_kind::gpt2), gift::error);
  BOOST_CHECK_THROW(tokenizer(vocab, std::vector<std::string>{}, {}, pre_tokenizer_kind::gpt2, {.bos = 9999}), gift::error);
  const tokenizer t(vocab, std::vector<std::string>{"a b"}, {}, pre_tokenizer_kind::gpt2);
  BOOST_CHECK_THROW((void)t.encode("x", {.add_bos = true}), gift::error);
  const std::vector<std::int32_t> bad = {1, 257};
  BOOST_CHECK_THROW((void)t.decode(bad), gift::error);
  BOOST_CHECK_THROW((void)t.token_text(-1), gift::error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(from_gguf)

namespace {
std::vector<std::byte> tokenizer_gguf(std::string_view model, std::string_view pre) {
  using namespace gift_test;
  return build_gguf(3, 8, [&](byte_writer& w) {
    w.str("tokenizer.ggml.model"); w.u32(t_string); w.str(model);
    w.str("tokenizer.ggml.pre"); w.u32(t_string); w.str(pre);
    w.str("tokenizer.ggml.tokens"); w.u32(t_array); w.u32(t_string); w.u64(259);
    for (unsigned b = 0; b < 256; ++b) w.str(symbol_of(static_cast<unsigned char>(b)));
    w.str("<s>"); w.str("he"); w.str(symbol_of(' ') + "he");
    w.str("tokenizer.ggml.token_type"); w.u32(t_array); w.u32(t_i32); w.u64(259);
    for (unsigned i = 0; i < 259; ++i) w.u32(i == 256 ? 3 : 1);
    w.str("tokenizer.ggml.merges"); w.u32(t_array); w.u32(t_string); w.u64(2);
    w.str("h e"); w.str(symbol_of(' ') + " he");
    w.str("tokenizer.ggml.bos_token_id"); w.u32(t_u32); w.u32(256);
    w.str("tokenizer.ggml.eos_token_id"); w.u32(t_u32); w.u32(256);
    w.str("tokenizer.ggml.add_bos_token"); w.u32(t_bool); w.u8(1);
  }, {});
}
gift::io::gguf_file parse(std::vector<std::byte> bytes) {
  return gift::io::gguf_file::parse(gift::io::mapped_file::from_bytes(std::move(bytes)));
}
}  // namespace

BOOST_AUTO_TEST_CASE(reads_vocabulary_merges_types_and_ids) {
  const auto file = parse(tokenizer_gguf("gpt2", "smollm"));
  const tokenizer t = tokenizer::from_gguf(file);
  BOOST_TEST(t.vocab_size() == 259u);
  BOOST_TEST((t.pre_tokenizer() == pre_tokenizer_kind::gpt2_digits));
  BOOST_TEST((t.kind(256) == token_kind::control));
  BOOST_TEST(t.special().bos == 256);
  BOOST_TEST(t.special().pad == -1);
  BOOST_TEST(t.add_bos_by_default());
  BOOST_TEST(t.encode("he he<s>", {.parse_special = true}) == (std::vector<std::int32_t>{257, 258, 256}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(unsupported_models_and_pre_tokenizers_are_errors) {
  BOOST_CHECK_THROW((void)tokenizer::from_gguf(parse(tokenizer_gguf("llama", "smollm"))), gift::error);
  BOOST_CHECK_THROW((void)tokenizer::from_gguf(parse(tokenizer_gguf("gpt2", "llama3"))), gift::error);
  // ... unless the caller names a pre-tokenizer explicitly.
  const tokenizer t = tokenizer::from_gguf(parse(tokenizer_gguf("gpt2", "llama3")), pre_tokenizer_kind::gpt2);
  BOOST_TEST((t.pre_tokenizer() == pre_tokenizer_kind::gpt2));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END()  // io_tokenizer
