// Tokenizes a text corpus with the tokenizer stored in a GGUF model: lists the corpus files,
// splits them into train and validation by file, and packs the training ids into sequences.
//
//   example_io_text_corpus model.gguf [corpus folder] [suffix]
//
// Defaults: the Debian linux-doc-6.1 documentation (apt-get install linux-doc-6.1), ".rst.gz".
#include <gift/io/text_data.hpp>
#include <gift/io/tokenizer.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s model.gguf [corpus folder] [suffix]\n", argv[0]);
    return 2;
  }
  const std::string root = argc > 2 ? argv[2] : "/usr/share/doc/linux-doc-6.1/Documentation";
  const std::string suffix = argc > 3 ? argv[3] : ".rst.gz";
  try {
    const auto model = gift::io::gguf_file::open(argv[1]);
    const auto tokenizer = gift::io::tokenizer::from_gguf(model);
    const auto chat = tokenizer.encode("<|im_start|>user\nHello, kernel!<|im_end|>", {.parse_special = true});
    std::printf("chat prompt -> %zu ids:", chat.size());
    for (const auto id : chat) std::printf(" %d", id);
    std::printf("\n");

    const auto files = gift::io::list_text_files(root, {suffix});
    const auto split = gift::io::split_by_file(files, 0.1);
    std::printf("%zu files: %zu train, %zu validation\n", files.size(), split.train.size(), split.validation.size());
    const auto start = std::chrono::steady_clock::now();
    const auto ids = gift::io::tokenize_files(root, split.validation, tokenizer, tokenizer.special().eos);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto sequences = gift::io::pack_sequences(ids, 257, 256);
    std::printf("validation: %zu ids in %.2f s -> %ld sequences of 257 ids\n", ids.size(), seconds,
                static_cast<long>(sequences.rows()));
    if (sequences.rows() > 0) {
      std::vector<std::int32_t> first(sequences.row(0).data(), sequences.row(0).data() + 40);
      std::printf("first sequence begins: %s...\n", tokenizer.decode(first).c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
