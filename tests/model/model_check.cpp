// Checks on the real model, driven by reference_llama.py and hf_reference.py (<model> is a GGUF
// file or a Hugging Face checkpoint folder):
//   model_check <model> logits <out.f32> <id>...   writes the logits (T × vocab, float32)
//   model_check <model> config                      prints the configuration read from the file
//   model_check <model> gradient                    directional finite-difference check
//   model_check <model> save-hf <folder> [f32|f16|bf16] [shard MiB]   writes a Hugging Face folder
//   model_check <model> tokenize <texts> <out>      token ids (parse_special) of every text in
//                                                   <texts> (u32 count, then u32 length + UTF-8
//                                                   each), written as u32 count + ids per text
// Exit status 0 on success, 1 on a failed check, 2 on bad usage or a gift::error.
// Built twice: model_check runs the Eigen model, model_check_thrust (GIFT_CHECK_THRUST) the same
// checks on the Thrust OMP model, so the numpy reference judges both.
#include <gift/error.hpp>
#include <gift/model/gift_sw_linear.hpp>
#include <gift/model/hf_checkpoint.hpp>
#include <gift/model/load_gguf.hpp>
#if defined(GIFT_CHECK_THRUST)
#include <gift/backend/thrust.hpp>
#endif
#include <gift/model/open_model.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace gm = gift::model;

namespace {

#if defined(GIFT_CHECK_THRUST)
using checked_backend = gift::backend::thrust_omp;
#else
using checked_backend = gift::backend::eigen;
#endif
using model_type = gm::llama_model<float, checked_backend>;
using storage = gift::backend_storage<checked_backend, float>;

int write_logits(model_type& model, const std::string& path, const std::vector<std::int32_t>& ids) {
  gm::token_matrix tokens(1, static_cast<Eigen::Index>(ids.size()));
  for (std::size_t i = 0; i < ids.size(); ++i) tokens(0, static_cast<Eigen::Index>(i)) = ids[i];
  const gift::matrix<float> logits = storage::to_host(model.logits(tokens));
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(logits.data()), static_cast<std::streamsize>(logits.size() * sizeof(float)));
  std::cout << "wrote " << logits.rows() << " x " << logits.cols() << " logits; mean next-token loss "
            << model.evaluate(tokens).mean() << "\n";
  return out ? 0 : 2;
}

// Along u = g / |g| (g the salient-block gradient of a layer), the loss changes at rate |g|:
// one directional difference tests the whole block's gradient at a signal far above float noise.
int check_gradient(model_type& model) {
  gm::token_matrix tokens(1, 16);
  for (Eigen::Index t = 0; t < 16; ++t) tokens(0, t) = static_cast<std::int32_t>(1000 + 37 * t * t % 20000);
  struct probe_site {
    int block;
    gm::projection p;
  };
  const probe_site sites[] = {{0, gm::projection::q}, {7, gm::projection::k}, {15, gm::projection::v},
                              {22, gm::projection::o}, {29, gm::projection::down}, {3, gm::projection::gate}};
  std::vector<gm::gift_sw_linear<float, checked_backend>*> layers;
  for (const auto& site : sites) {
    const gift::matrix<float> weight = model.linear(site.block, site.p).effective_weight();
    std::vector<std::int64_t> salient;
    for (std::int64_t j = 3; j < weight.cols(); j += weight.cols() / 16) salient.push_back(j);
    const gift::vector<float> delta = gift::vector<float>::Constant(weight.rows(), 0.01f);
    auto module = std::make_unique<gm::gift_sw_linear<float, checked_backend>>(weight, gift::salient_columns::from_indices(salient, static_cast<std::size_t>(weight.cols())), delta, 5,
                                                              static_cast<std::uint32_t>(gm::layer_id(site.block, site.p)));
    layers.push_back(module.get());
    model.replace_linear(site.block, site.p, std::move(module));
  }
  const gm::forward_context clean{false, 0};
  model.forward_backward(tokens, clean);
  std::vector<gift::matrix<float>> gradients;
  for (auto* layer : layers) gradients.push_back(storage::to_host(layer->layer().salient_gradient()));
  int failures = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    auto& weight = layers[i]->layer().salient_weight();
    const gift::matrix<float> original = storage::to_host(weight);
    // Overwrites the salient block (same shape; the layer reads it at every pass).
    const auto set = [&](const gift::matrix<float>& values) { weight = storage::from_host(values); };
    const double norm = gradients[i].cast<double>().norm();
    const gift::matrix<float> direction = (gradients[i].cast<double>() / norm).cast<float>();
    const double h = 1e-2;
    set(original + static_cast<float>(h) * direction);
    const double plus = model.evaluate(tokens).mean();
    set(original - static_cast<float>(h) * direction);
    const double minus = model.evaluate(tokens).mean();
    set(original);
    const double numeric = (plus - minus) / (2 * h);
    const double relative = std::abs(numeric - norm) / norm;
    const bool ok = relative < 0.02;
    failures += ok ? 0 : 1;
    std::cout << "block " << sites[i].block << " " << gm::short_name(sites[i].p) << ": |g| = " << norm
              << ", directional difference = " << numeric << ", relative error " << relative << (ok ? "" : "  FAIL")
              << "\n";
  }
  return failures == 0 ? 0 : 1;
}

std::uint32_t read_u32(std::istream& in) {
  unsigned char b[4] = {};
  in.read(reinterpret_cast<char*>(b), 4);
  return static_cast<std::uint32_t>(b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::uint32_t>(b[3]) << 24));
}

void write_u32(std::ostream& out, std::uint32_t v) {
  const char b[4] = {static_cast<char>(v & 0xFF), static_cast<char>((v >> 8) & 0xFF), static_cast<char>((v >> 16) & 0xFF),
                     static_cast<char>((v >> 24) & 0xFF)};
  out.write(b, 4);
}

int tokenize(const char* model, const char* texts, const char* ids) {
  const gift::io::tokenizer tokenizer = gm::open_tokenizer(model);
  std::ifstream in(texts, std::ios::binary);
  std::ofstream out(ids, std::ios::binary);
  const std::uint32_t count = read_u32(in);
  for (std::uint32_t t = 0; t < count; ++t) {
    std::string text(read_u32(in), '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    const auto encoded = tokenizer.encode(text, {.parse_special = true});
    write_u32(out, static_cast<std::uint32_t>(encoded.size()));
    for (const auto id : encoded) write_u32(out, static_cast<std::uint32_t>(id));
  }
  std::cout << "tokenized " << count << " texts\n";
  return in && out ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc < 3) {
      std::cerr << "usage: model_check <model> logits <out.f32> <id>... | config | gradient | save-hf <folder> [dtype] "
                   "[shard MiB] | tokenize <texts> <out>\n";
      return 2;
    }
    const std::string mode = argv[2];
    if (mode == "tokenize" && argc == 5) return tokenize(argv[1], argv[3], argv[4]);
    auto model = [&] {
      auto loaded = gm::open_llama(std::filesystem::path(argv[1]));
      if constexpr (std::is_same_v<checked_backend, gift::backend::eigen>) {
        return loaded;
      } else {
        return gm::to_backend<checked_backend>(loaded);
      }
    }();
    if (mode == "save-hf" && argc >= 4) {
#if !defined(GIFT_CHECK_THRUST)
      {
        gm::hf_save_options options;
        const std::string dtype = argc >= 5 ? argv[4] : "f32";
        options.dtype = dtype == "f16" ? gift::io::safetensors_dtype::f16
                        : dtype == "bf16" ? gift::io::safetensors_dtype::bf16 : gift::io::safetensors_dtype::f32;
        if (argc >= 6) options.max_shard_bytes = std::stoull(argv[5]) << 20;
        gm::save_hf(model, gm::open_tokenizer(argv[1]), gm::open_model_card(argv[1]), argv[3], options);
        std::cout << "wrote " << argv[3] << "\n";
        return 0;
      }
#else
      std::cerr << "model_check: save-hf runs in the Eigen build (model_check)\n";
      return 2;
#endif
    }
    if (mode == "config") {
      const auto& c = model.config();
      std::cout << "layers " << c.layers << "\nhidden " << c.hidden << "\nheads " << c.heads << "\nkv_heads "
                << c.kv_heads << "\nhead_dim " << c.head_dim << "\nffn " << c.ffn << "\nvocab " << c.vocab
                << "\nrope_dim " << c.rope_dim << "\nrope_base " << c.rope_base << "\nrms_epsilon " << c.rms_epsilon
                << "\ntied_embeddings " << c.tied_embeddings << "\n";
      return 0;
    }
    if (mode == "logits" && argc >= 5) {
      std::vector<std::int32_t> ids;
      for (int i = 4; i < argc; ++i) ids.push_back(static_cast<std::int32_t>(std::stol(argv[i])));
      return write_logits(model, argv[3], ids);
    }
    if (mode == "gradient") return check_gradient(model);
    std::cerr << "model_check: unknown mode '" << mode << "'\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "model_check: " << e.what() << "\n";
    return 2;
  }
}
