#pragma once
/// \file gift/pipeline/multiple_choice.hpp
/// \brief Zero-shot multiple-choice accuracy: `pipeline::next_passage_items` and
/// `pipeline::final_word_items` build items from held-out documents, `pipeline::score_choices`
/// scores them by log-likelihood.
///
/// The paper reports zero-shot accuracy; its tasks are not shipped with gift (no downloads), so
/// gift builds tasks of the same form from the text of a domain. `next_passage`: given a passage
/// of a document, choose its true continuation among `choices` candidates of the same token
/// length — the continuation and passages cut from other documents of the same split.
/// `final_word`: given the text before a sentence's last word, choose that word among other
/// sentence-final words of the same document (then of others). Items are
/// scored as lm-eval-harness scores multiple choice: each candidate's summed log-likelihood given
/// the context; `acc` picks the largest, `acc_norm` the largest per byte of the candidate's text.
/// \code
/// const auto items = gift::pipeline::next_passage_items(documents, tokenizer, {});
/// const auto scores = gift::pipeline::score_choices(model, items);
/// // scores.accuracy(), scores.accuracy_norm(), scores.interval(0.95)
/// \endcode

#include <gift/error.hpp>
#include <gift/io/text_data.hpp>
#include <gift/io/tokenizer.hpp>
#include <gift/model/llama.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gift::pipeline {

/// One multiple-choice item: a context and candidate continuations, one of them right.
struct choice_item {
  std::vector<std::int32_t> context;               ///< token ids the candidates continue
  std::vector<std::vector<std::int32_t>> choices;  ///< candidate continuations (token ids, non-empty)
  std::vector<std::int64_t> choice_bytes;          ///< each candidate's length in bytes of text (acc_norm)
  std::size_t answer = 0;                          ///< index of the right candidate
  std::string source;                              ///< where the context came from ("file@offset")
};

namespace detail {
/// The indices of `documents` (name first in each pair) in the order of
/// `io::hash_position(name, seed)`, names breaking ties: the seeded visiting order of the tasks.
template <class Content>
[[nodiscard]] std::vector<std::size_t> seeded_order(const std::vector<std::pair<std::string, Content>>& documents,
                                                    std::uint64_t seed) {
  std::vector<std::size_t> order(documents.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<double> at(documents.size());
  for (std::size_t i = 0; i < at.size(); ++i) at[i] = io::hash_position(documents[i].first, seed);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return at[a] != at[b] ? at[a] < at[b] : documents[a].first < documents[b].first;
  });
  return order;
}
}  // namespace detail

/// How `next_passage_items` builds its items.
struct next_passage_options {
  std::int64_t context = 96;       ///< context tokens
  std::int64_t continuation = 32;  ///< tokens of every candidate
  std::int64_t choices = 4;        ///< candidates per item (the right one and choices − 1 distractors)
  std::int64_t items = 64;         ///< items (one per document, fewer if fewer documents are long enough)
  std::uint64_t seed = 0;          ///< draws the documents, the positions, the distractors and the answer's place
};

/// Builds `next_passage` items from `documents` (name and token ids of each, e.g. the held-out
/// files of a domain). The documents are visited in the order of `io::hash_position(name, seed)`;
/// each one with at least `context + continuation` tokens gives one item until `items` are made:
/// the context starts at a seeded position, the right candidate is the `continuation` tokens that
/// follow it, and each distractor is a `continuation`-token passage at a seeded position of another
/// document (distinct documents, taken in seeded order; a passage equal to another candidate is
/// passed over, and a document without enough distinct passages gives no item). The right
/// candidate's place among the choices is seeded too. `bytes_of` gives a candidate's length in bytes (the tokenizer's decode).
/// \throws gift::error for sizes below 1, fewer than 2 choices, or fewer than `choices` documents
/// long enough to give a passage.
[[nodiscard]] inline std::vector<choice_item> next_passage_items(
    const std::vector<std::pair<std::string, std::vector<std::int32_t>>>& documents,
    const std::function<std::int64_t(const std::vector<std::int32_t>&)>& bytes_of, const next_passage_options& options) {
  const char* where = "gift::pipeline::next_passage_items";
  gift::detail::require(options.context >= 1 && options.continuation >= 1 && options.items >= 1, where,
                        ": next_passage_options::context, continuation and items must be at least 1, but are ",
                        options.context, ", ", options.continuation, " and ", options.items);
  gift::detail::require(options.choices >= 2 && options.choices <= 26, where,
                        ": next_passage_options::choices must be in [2, 26], but is ", options.choices);
  const std::vector<std::size_t> order = detail::seeded_order(documents, options.seed);
  // A seeded position in [0, span] for `key`.
  const auto position = [&](const std::string& key, std::int64_t span) {
    const auto value = static_cast<std::int64_t>(io::hash_position(key, options.seed) * static_cast<double>(span + 1));
    return std::min(value, span);
  };
  const auto long_enough = [&](std::size_t i, std::int64_t length) {
    return static_cast<std::int64_t>(documents[i].second.size()) >= length;
  };
  std::vector<std::size_t> passage_sources;
  for (std::size_t i : order)
    if (long_enough(i, options.continuation)) passage_sources.push_back(i);
  gift::detail::require(static_cast<std::int64_t>(passage_sources.size()) >= options.choices, where, ": ",
                        passage_sources.size(), " document(s) hold a ", options.continuation, "-token passage, but ",
                        options.choices, " choices need as many distinct documents; give more documents or fewer "
                        "choices");
  std::vector<choice_item> items;
  for (std::size_t k = 0; k < order.size() && static_cast<std::int64_t>(items.size()) < options.items; ++k) {
    const std::size_t d = order[k];
    const auto& [name, ids] = documents[d];
    if (!long_enough(d, options.context + options.continuation)) continue;
    const std::int64_t start =
        position(name + "#context", static_cast<std::int64_t>(ids.size()) - options.context - options.continuation);
    choice_item item;
    item.source = name + "@" + std::to_string(start);
    item.context.assign(ids.begin() + start, ids.begin() + start + options.context);
    std::vector<std::vector<std::int32_t>> candidates;
    candidates.emplace_back(ids.begin() + start + options.context,
                            ids.begin() + start + options.context + options.continuation);
    // Distractors: the next documents (other than this one) of the passage order, from a place
    // that depends on this item, so that items do not share their distractors.
    const std::size_t first = static_cast<std::size_t>(position(name + "#distractors",
                                                                static_cast<std::int64_t>(passage_sources.size()) - 1));
    // A passage equal to one already chosen (boilerplate shared by documents) is passed over: an
    // item with two identical candidates has no single right answer.
    for (std::size_t j = 0;
         j < passage_sources.size() && static_cast<std::int64_t>(candidates.size()) < options.choices; ++j) {
      const std::size_t other = passage_sources[(first + j) % passage_sources.size()];
      if (other == d) continue;
      const auto& other_ids = documents[other].second;
      const std::int64_t from = position(name + "#from#" + documents[other].first,
                                         static_cast<std::int64_t>(other_ids.size()) - options.continuation);
      std::vector<std::int32_t> passage(other_ids.begin() + from, other_ids.begin() + from + options.continuation);
      if (std::find(candidates.begin(), candidates.end(), passage) == candidates.end())
        candidates.push_back(std::move(passage));
    }
    if (static_cast<std::int64_t>(candidates.size()) < options.choices) continue;  // too few distinct passages
    const auto answer = static_cast<std::size_t>(position(name + "#answer", options.choices - 1));
    std::swap(candidates[0], candidates[answer]);
    item.answer = answer;
    item.choices = std::move(candidates);
    for (const auto& choice : item.choices) item.choice_bytes.push_back(std::max<std::int64_t>(1, bytes_of(choice)));
    items.push_back(std::move(item));
  }
  return items;
}

/// How `final_word_items` builds its items.
struct final_word_options {
  std::int64_t context = 96;       ///< context tokens before the word (at most; fewer at a document's start)
  std::int64_t choices = 4;        ///< candidates per item (the right word and choices − 1 distractors)
  std::int64_t items = 64;         ///< items (one per document, fewer if fewer documents have a sentence to end)
  std::int64_t min_word_bytes = 3; ///< shortest word that may be asked for (letters only)
  std::uint64_t seed = 0;          ///< draws the documents, the sentences, the distractors and the answer's place
};

namespace detail {
/// Where a sentence ends in a word of letters: the word's first and one-past-last byte.
struct final_word_position {
  std::size_t begin = 0, end = 0;
};
/// Sentence-final words of `text`: a run of at least `min_bytes` ASCII letters that follows a
/// space and is followed by '.', '!' or '?' and then white space or the end, with at least
/// `min_before` bytes of text before it (a context to predict from).
inline std::vector<final_word_position> final_words(std::string_view text, std::int64_t min_bytes, std::size_t min_before) {
  std::vector<final_word_position> out;
  const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  const auto space = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '.' && text[i] != '!' && text[i] != '?') continue;
    if (i + 1 < text.size() && !space(text[i + 1])) continue;  // "e.g." or "3.5": not a sentence end
    std::size_t begin = i;
    while (begin > 0 && letter(text[begin - 1])) --begin;
    if (begin == 0 || text[begin - 1] != ' ' || static_cast<std::int64_t>(i - begin) < min_bytes) continue;
    if (begin - 1 < min_before) continue;
    out.push_back({begin, i});
  }
  return out;
}
}  // namespace detail

/// Builds `final_word` items from text `documents` (name and text of each): given the text before
/// the last word of a sentence, choose that word among `choices` candidates — the word and the
/// other sentence-final words of the same document, then of other documents of the same split
/// (the LAMBADA idea, as multiple choice). The documents are visited in the order of `io::hash_position(name, seed)`; each with a
/// sentence-final word (`detail::final_words`: letters only, at least `min_word_bytes` bytes, after
/// a space, before '.', '!' or '?') gives one item at a seeded one of its sentences. The context
/// is the last `context` tokens of `encode` of the text before the word (the space before the word
/// excluded); each candidate is `encode(" " + word)`, so candidates are scored as the same
/// continuation of the same context. Distractors are the document's other sentence-final words
/// (from a seeded place), then, while too few, other documents' (in seeded order, one seeded word
/// each); all distinct from the other candidates ignoring case. The right word's place is seeded. A candidate's byte length (acc_norm) is its text's, space included.
/// \throws gift::error for sizes below 1, choices outside [2, 26], or fewer than `choices`
/// documents with a sentence-final word.
[[nodiscard]] inline std::vector<choice_item> final_word_items(
    const std::vector<std::pair<std::string, std::string>>& documents,
    const std::function<std::vector<std::int32_t>(std::string_view)>& encode, const final_word_options& options) {
  const char* where = "gift::pipeline::final_word_items";
  gift::detail::require(options.context >= 1 && options.items >= 1 && options.min_word_bytes >= 1, where,
                        ": final_word_options::context, items and min_word_bytes must be at least 1, but are ",
                        options.context, ", ", options.items, " and ", options.min_word_bytes);
  gift::detail::require(options.choices >= 2 && options.choices <= 26, where,
                        ": final_word_options::choices must be in [2, 26], but is ", options.choices);
  // A sentence-final word needs some text before it to be predicted from (a short context is
  // still a context; the context is then the last `context` tokens of what there is).
  constexpr std::size_t min_before = 64;
  const std::vector<std::size_t> order = detail::seeded_order(documents, options.seed);
  const auto pick = [&](const std::string& key, std::size_t count) {
    const auto value = static_cast<std::size_t>(io::hash_position(key, options.seed) * static_cast<double>(count));
    return std::min(value, count - 1);
  };
  // Each document's sentence-final words, and the one its item (or its distractor) uses.
  std::vector<std::size_t> sources;  // documents with at least one, in seeded order
  std::vector<std::vector<detail::final_word_position>> all(documents.size());
  std::vector<detail::final_word_position> chosen(documents.size());
  for (std::size_t i : order) {
    all[i] = detail::final_words(documents[i].second, options.min_word_bytes, min_before);
    if (all[i].empty()) continue;
    chosen[i] = all[i][pick(documents[i].first + "#sentence", all[i].size())];
    sources.push_back(i);
  }
  gift::detail::require(static_cast<std::int64_t>(sources.size()) >= options.choices, where, ": ", sources.size(),
                        " document(s) hold a sentence-final word, but ", options.choices, " choices need as many "
                        "distinct documents; give more documents or fewer choices");
  const auto word_of = [&](std::size_t i) {
    return std::string_view(documents[i].second).substr(chosen[i].begin, chosen[i].end - chosen[i].begin);
  };
  const auto lower = [](std::string_view text) {
    std::string out(text);
    for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    return out;
  };
  std::vector<choice_item> items;
  for (std::size_t k = 0; k < sources.size() && static_cast<std::int64_t>(items.size()) < options.items; ++k) {
    const std::size_t d = sources[k];
    const auto& [name, text] = documents[d];
    std::vector<std::string> words = {std::string(word_of(d))};
    std::vector<std::string> seen = {lower(words[0])};
    const auto offer = [&](std::string candidate) {
      if (static_cast<std::int64_t>(words.size()) >= options.choices) return;
      if (std::find(seen.begin(), seen.end(), lower(candidate)) != seen.end()) return;
      seen.push_back(lower(candidate));
      words.push_back(std::move(candidate));
    };
    // Distractors from the same document first (other sentence-final words: on topic, so the
    // item asks for more than the document's subject), from a seeded place; then other documents'.
    const std::size_t own = pick(name + "#own", all[d].size());
    for (std::size_t j = 0; j < all[d].size(); ++j) {
      const auto& at_word = all[d][(own + j) % all[d].size()];
      offer(text.substr(at_word.begin, at_word.end - at_word.begin));
    }
    const std::size_t first = pick(name + "#distractors", sources.size());
    for (std::size_t j = 0; j < sources.size(); ++j) {
      const std::size_t other = sources[(first + j) % sources.size()];
      if (other != d) offer(std::string(word_of(other)));
    }
    if (static_cast<std::int64_t>(words.size()) < options.choices) continue;  // too few distinct words
    choice_item item;
    item.source = name + "@" + std::to_string(chosen[d].begin);
    // The text before the word (its space excluded), cut on the left to about what `context`
    // tokens can hold before encoding, then to exactly the last `context` tokens.
    const std::size_t stop = chosen[d].begin - 1;
    const std::size_t window = static_cast<std::size_t>(options.context) * 16;
    const std::size_t from = stop > window ? stop - window : 0;
    std::vector<std::int32_t> context = encode(std::string_view(text).substr(from, stop - from));
    if (static_cast<std::int64_t>(context.size()) > options.context)
      context.erase(context.begin(), context.end() - options.context);
    if (context.empty()) continue;
    item.context = std::move(context);
    const auto answer = pick(name + "#answer", static_cast<std::size_t>(options.choices));
    std::swap(words[0], words[answer]);
    item.answer = answer;
    for (const auto& word : words) {
      item.choices.push_back(encode(" " + word));
      item.choice_bytes.push_back(static_cast<std::int64_t>(word.size() + 1));
    }
    items.push_back(std::move(item));
  }
  return items;
}

/// The scores of a set of items.
struct choice_scores {
  std::vector<std::vector<double>> log_likelihood;  ///< per item, per candidate: Σ log p(candidate | context)
  std::vector<bool> correct;                        ///< per item: the largest log-likelihood is the answer's
  std::vector<bool> correct_norm;                   ///< per item: the largest log-likelihood per byte is the answer's

  /// Fraction of items answered right (acc).
  [[nodiscard]] double accuracy() const noexcept { return fraction(correct); }
  /// Fraction answered right by log-likelihood per byte (acc_norm).
  [[nodiscard]] double accuracy_norm() const noexcept { return fraction(correct_norm); }
  /// The Wilson score interval of a fraction `k / n` at confidence `level` (0.95: z = 1.96).
  [[nodiscard]] static std::pair<double, double> wilson_interval(double k, double n, double level = 0.95) {
    if (n <= 0) return {std::nan(""), std::nan("")};
    const double z = level == 0.95 ? 1.959963984540054 : std::sqrt(2.0) * inverse_erf(level);
    const double p = k / n, z2 = z * z;
    const double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
    const double half = z * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
    return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
  }
  /// The Wilson interval of `accuracy()` (or of `accuracy_norm()` with `norm`).
  [[nodiscard]] std::pair<double, double> interval(double level = 0.95, bool norm = false) const {
    const auto& flags = norm ? correct_norm : correct;
    return wilson_interval(fraction(flags) * static_cast<double>(flags.size()), static_cast<double>(flags.size()),
                           level);
  }

 private:
  static double fraction(const std::vector<bool>& flags) noexcept {
    if (flags.empty()) return std::nan("");
    double k = 0;
    for (bool f : flags) k += f ? 1.0 : 0.0;
    return k / static_cast<double>(flags.size());
  }
  static double inverse_erf(double y) {  // Newton on erf, from a good start; |y| < 1
    double x = 0.0;
    for (int i = 0; i < 60; ++i) x -= (std::erf(x) - y) / (2.0 / std::sqrt(3.14159265358979323846) * std::exp(-x * x));
    return x;
  }
};

/// Scores `items` with `model` in evaluation mode: for every item, one forward pass over its
/// candidates (each row the context followed by a candidate, padded to the longest), and each
/// candidate's log-likelihood is the sum of −nll over the positions that predict its tokens.
/// Ties go to the lower index (as numpy's argmax, which lm-eval-harness uses).
/// \throws gift::error for an item without candidates, an empty context or candidate, an answer
/// out of range, a byte length per candidate missing, or ids outside the vocabulary.
template <std::floating_point T, backend_tag Backend>
[[nodiscard]] choice_scores score_choices(model::llama_model<T, Backend>& model, const std::vector<choice_item>& items,
                                          const std::function<void(std::int64_t done, std::int64_t of)>& progress = {}) {
  const char* where = "gift::pipeline::score_choices";
  choice_scores out;
  for (std::size_t n = 0; n < items.size(); ++n) {
    const choice_item& item = items[n];
    gift::detail::require(!item.context.empty() && item.choices.size() >= 2 && item.answer < item.choices.size() &&
                              item.choice_bytes.size() == item.choices.size(),
                          where, ": item ", n, " needs a context, at least 2 choices, an answer among them and a byte "
                          "length per choice, but has ", item.context.size(), " context tokens, ", item.choices.size(),
                          " choices, answer ", item.answer, " and ", item.choice_bytes.size(), " byte lengths");
    std::size_t longest = 0;
    for (const auto& c : item.choices) {
      gift::detail::require(!c.empty(), where, ": item ", n, " has an empty choice");
      longest = std::max(longest, c.size());
    }
    const auto width = static_cast<Eigen::Index>(item.context.size() + longest);
    token_matrix rows(static_cast<Eigen::Index>(item.choices.size()), width);
    rows.setZero();  // padding after a shorter choice: later positions never affect earlier ones
    for (std::size_t c = 0; c < item.choices.size(); ++c) {
      const auto r = static_cast<Eigen::Index>(c);
      for (std::size_t t = 0; t < item.context.size(); ++t) rows(r, static_cast<Eigen::Index>(t)) = item.context[t];
      for (std::size_t t = 0; t < item.choices[c].size(); ++t)
        rows(r, static_cast<Eigen::Index>(item.context.size() + t)) = item.choices[c][t];
    }
    const Eigen::MatrixXd nll = model.token_losses(rows);
    std::vector<double> scores(item.choices.size());
    std::size_t best = 0, best_norm = 0;
    for (std::size_t c = 0; c < item.choices.size(); ++c) {
      double sum = 0;
      // Position t predicts token t + 1: the choice's tokens are predicted from |context| − 1 on.
      for (std::size_t t = 0; t < item.choices[c].size(); ++t)
        sum -= nll(static_cast<Eigen::Index>(c), static_cast<Eigen::Index>(item.context.size() - 1 + t));
      scores[c] = sum;
      if (sum > scores[best]) best = c;
      const auto per_byte = [&](std::size_t i) { return scores[i] / static_cast<double>(item.choice_bytes[i]); };
      if (per_byte(c) > per_byte(best_norm)) best_norm = c;
    }
    out.correct.push_back(best == item.answer);
    out.correct_norm.push_back(best_norm == item.answer);
    out.log_likelihood.push_back(std::move(scores));
    if (progress) progress(static_cast<std::int64_t>(n + 1), static_cast<std::int64_t>(items.size()));
  }
  return out;
}

}  // namespace gift::pipeline
