// libFuzzer target for the byte-level BPE tokenizer (`gift::io::tokenizer`). The first input
// byte chooses what the rest is:
//   even: text for a fixed tokenizer (all 256 byte symbols, merges, two control tokens), encoded
//         with and without special-token parsing: every id must be in the vocabulary, and
//         decoding must give the text back byte for byte (byte-level BPE is lossless; control
//         tokens decode to their own text);
//   odd:  a vocabulary and merges (lines "t <token>" / "m <left> <right>") from which a tokenizer
//         must be built or gift::error thrown, then used on the same text.
// Never a crash, an out-of-range id or a lost byte.
#include <gift/io/tokenizer.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {
using gift::io::pre_tokenizer_kind;
using gift::io::token_kind;
using gift::io::tokenizer;

// The GPT-2 byte-to-symbol map (printable bytes map to themselves, the rest to U+0100...).
std::string byte_symbol(unsigned b) {
  const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
  static unsigned next_index[256] = {};
  static bool ready = false;
  if (!ready) {
    unsigned n = 0;
    for (unsigned c = 0; c < 256; ++c) {
      const bool p = (c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF);
      next_index[c] = p ? c : 256 + n++;
    }
    ready = true;
  }
  const char32_t cp = printable ? b : next_index[b];
  std::string out;
  gift::io::append_utf8(out, cp);
  return out;
}

const tokenizer& fixed_tokenizer() {
  static const tokenizer instance = [] {
    std::vector<std::string> vocab;
    for (unsigned b = 0; b < 256; ++b) vocab.push_back(byte_symbol(b));
    const std::string space = byte_symbol(' ');
    std::vector<std::string> merges = {"t h", "th e", space + " t", space + "t h", space + "th e", "i n", "e r", "1 2"};
    for (const auto& m : merges) {
      const auto cut = m.find(' ');
      vocab.push_back(m.substr(0, cut) + m.substr(cut + 1));
    }
    std::vector<token_kind> kinds(vocab.size(), token_kind::normal);
    vocab.push_back("<|im_start|>");
    kinds.push_back(token_kind::control);
    vocab.push_back("<|im_end|>");
    kinds.push_back(token_kind::control);
    return tokenizer(vocab, merges, kinds, pre_tokenizer_kind::gpt2_digits,
                     {.bos = static_cast<std::int32_t>(vocab.size() - 2), .eos = static_cast<std::int32_t>(vocab.size() - 1)});
  }();
  return instance;
}

void use(const tokenizer& t, std::string_view text, bool lossless) {
  for (const bool special : {false, true}) {
    const auto ids = t.encode(text, {.parse_special = special});
    for (const auto id : ids)
      if (id < 0 || static_cast<std::size_t>(id) >= t.vocab_size()) __builtin_trap();
    const std::string back = t.decode(ids);
    if (lossless && back != text) __builtin_trap();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    if (data[0] % 2 == 0) {
      use(fixed_tokenizer(), rest, true);
      return 0;
    }
    // "t <token>" and "m <left> <right>" lines, then the text after an empty line.
    std::vector<std::string> vocab, merges;
    std::size_t pos = 0;
    while (pos < rest.size()) {
      std::size_t end = rest.find('\n', pos);
      if (end == std::string_view::npos) end = rest.size();
      const std::string_view line = rest.substr(pos, end - pos);
      pos = end + 1;
      if (line.empty()) break;
      if (line.size() > 2 && line[0] == 't' && line[1] == ' ') vocab.emplace_back(line.substr(2));
      if (line.size() > 2 && line[0] == 'm' && line[1] == ' ') merges.emplace_back(line.substr(2));
    }
    const tokenizer t(vocab, merges, {}, data[0] % 4 == 1 ? pre_tokenizer_kind::gpt2 : pre_tokenizer_kind::gpt2_digits);
    // Bytes without a symbol in this vocabulary are dropped (as in tokenizers): not lossless.
    use(t, pos < rest.size() ? rest.substr(pos) : std::string_view{}, false);
  } catch (const gift::error&) {
  }
  return 0;
}
