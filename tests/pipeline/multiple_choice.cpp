// gift::pipeline::next_passage_items / score_choices: items built as documented (the right
// candidate is the text that follows the context; distractors come from other documents; the same
// seed gives the same items), and scores equal to a brute force that evaluates context and
// context + candidate separately, without padding; accuracy's Wilson interval against a hand value.
#include <boost/test/unit_test.hpp>

#include <gift/error.hpp>
#include <gift/pipeline/multiple_choice.hpp>

#include "pipeline_fixtures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Every case of this file belongs to the CTest test pipeline_multiple_choice (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(pipeline_multiple_choice)

namespace gp = gift::pipeline;
using documents = std::vector<std::pair<std::string, std::vector<std::int32_t>>>;

namespace {
documents make_documents(int count, int vocab) {
  documents out;
  for (int d = 0; d < count; ++d) {
    std::vector<std::int32_t> ids;
    for (int t = 0; t < 20 + 3 * d; ++t) ids.push_back((d * 17 + t * 7 + t * t) % vocab);
    out.emplace_back("doc" + std::to_string(d), std::move(ids));
  }
  return out;
}
std::int64_t two_bytes_per_token(const std::vector<std::int32_t>& ids) { return 2 * static_cast<std::int64_t>(ids.size()); }
}  // namespace

BOOST_AUTO_TEST_CASE(items_hold_the_true_continuation_and_foreign_distractors) {
  const documents docs = make_documents(12, 50);
  gp::next_passage_options options;
  options.context = 6;
  options.continuation = 4;
  options.choices = 3;
  options.items = 8;
  const auto items = gp::next_passage_items(docs, two_bytes_per_token, options);
  BOOST_TEST(items.size() == 8u);
  std::vector<std::size_t> answers;
  for (const auto& item : items) {
    BOOST_TEST(item.context.size() == 6u);
    BOOST_TEST(item.choices.size() == 3u);
    BOOST_TEST(item.answer < 3u);
    answers.push_back(item.answer);
    // The source names the document and the context's offset: the answer follows it there.
    const std::string name = item.source.substr(0, item.source.find('@'));
    const auto offset = static_cast<std::size_t>(std::stoll(item.source.substr(item.source.find('@') + 1)));
    const std::vector<std::int32_t>* ids = nullptr;
    for (const auto& [n, d] : docs)
      if (n == name) ids = &d;
    BOOST_REQUIRE(ids != nullptr);
    for (std::size_t t = 0; t < 6; ++t) BOOST_TEST(item.context[t] == (*ids)[offset + t]);
    for (std::size_t t = 0; t < 4; ++t) BOOST_TEST(item.choices[item.answer][t] == (*ids)[offset + 6 + t]);
    for (std::size_t c = 0; c < 3; ++c) {
      BOOST_TEST(item.choices[c].size() == 4u);
      BOOST_TEST(item.choice_bytes[c] == 8);
      if (c != item.answer) BOOST_TEST((item.choices[c] != item.choices[item.answer]));
    }
  }
  // The answer's place is drawn, not always first.
  BOOST_TEST(std::count(answers.begin(), answers.end(), answers.front()) < static_cast<long>(answers.size()));
  // Same seed, same items; another seed, other items.
  const auto again = gp::next_passage_items(docs, two_bytes_per_token, options);
  for (std::size_t i = 0; i < items.size(); ++i) {
    BOOST_TEST(again[i].source == items[i].source);
    BOOST_TEST(again[i].answer == items[i].answer);
  }
  options.seed = 7;
  const auto other = gp::next_passage_items(docs, two_bytes_per_token, options);
  bool differs = false;
  for (std::size_t i = 0; i < items.size(); ++i) differs = differs || other[i].source != items[i].source;
  BOOST_TEST(differs);
  // Documents of one repeated token give no item: every distractor would equal the answer.
  documents same(6, {"", std::vector<std::int32_t>(30, 3)});
  for (std::size_t d = 0; d < same.size(); ++d) same[d].first = "copy" + std::to_string(d);
  BOOST_TEST(gp::next_passage_items(same, two_bytes_per_token, options).empty());
  // Too few documents for the choices: refused, naming the fix.
  options.choices = 20;
  BOOST_CHECK_EXCEPTION((void)gp::next_passage_items(docs, two_bytes_per_token, options), gift::error,
                        [](const gift::error& e) { return std::string(e.what()).find("fewer choices") != std::string::npos; });
}

BOOST_AUTO_TEST_CASE(scores_equal_a_brute_force_without_padding) {
  auto model = pipeline_test::tiny_model<gift::backend::eigen>(5);
  const int vocab = model.config().vocab;
  // Hand-made items with candidates of different lengths (so rows are padded).
  std::vector<gp::choice_item> items(3);
  items[0] = {{1, 2, 3, 4}, {{5, 6}, {7}, {8, 9, 10}}, {2, 1, 3}, 0, "a"};
  items[1] = {{11, 12}, {{13, 14, 15}, {16, 17, 18}}, {3, 30}, 1, "b"};
  items[2] = {{20, 21, 22, 23, 24}, {{25}, {26}, {27}, {28}}, {1, 1, 1, 1}, 3, "c"};
  const auto scores = gp::score_choices(model, items);
  BOOST_REQUIRE(scores.log_likelihood.size() == 3u);
  // Brute force: log p(candidate | context) = −(loss(context + candidate) − loss(context)), each
  // sequence evaluated on its own.
  const auto loss_of = [&](const std::vector<std::int32_t>& ids) {
    gift::model::token_matrix row(1, static_cast<Eigen::Index>(ids.size()));
    for (std::size_t t = 0; t < ids.size(); ++t) row(0, static_cast<Eigen::Index>(t)) = ids[t] % vocab;
    return ids.size() < 2 ? 0.0 : model.evaluate(row).nll;
  };
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::size_t best = 0, best_norm = 0;
    std::vector<double> expected;
    for (std::size_t c = 0; c < items[i].choices.size(); ++c) {
      std::vector<std::int32_t> full = items[i].context;
      full.insert(full.end(), items[i].choices[c].begin(), items[i].choices[c].end());
      expected.push_back(-(loss_of(full) - loss_of(items[i].context)));
      BOOST_TEST(std::abs(scores.log_likelihood[i][c] - expected[c]) <= 1e-4 * (1.0 + std::abs(expected[c])));
      if (expected[c] > expected[best]) best = c;
      if (expected[c] / static_cast<double>(items[i].choice_bytes[c]) >
          expected[best_norm] / static_cast<double>(items[i].choice_bytes[best_norm]))
        best_norm = c;
    }
    BOOST_TEST(scores.correct[i] == (best == items[i].answer));
    BOOST_TEST(scores.correct_norm[i] == (best_norm == items[i].answer));
  }
  // A candidate's log-likelihood is negative, and a longer candidate (item 0's third) has a lower
  // total than per-byte normalisation suggests: both totals are well defined.
  for (const auto& row : scores.log_likelihood)
    for (double ll : row) BOOST_TEST(ll < 0.0);
  // Bad items are refused by name.
  std::vector<gp::choice_item> bad = {{{1}, {{2}, {3}}, {1}, 0, "x"}};
  BOOST_CHECK_EXCEPTION((void)gp::score_choices(model, bad), gift::error,
                        [](const gift::error& e) { return std::string(e.what()).find("byte length") != std::string::npos; });
}

namespace {
// A byte-level encoder: one token per byte, so token ids spell the text.
std::vector<std::int32_t> bytes_as_tokens(std::string_view text) {
  std::vector<std::int32_t> ids;
  for (const char c : text) ids.push_back(static_cast<unsigned char>(c));
  return ids;
}
std::string spelled(const std::vector<std::int32_t>& ids) {
  std::string text;
  for (const auto id : ids) text.push_back(static_cast<char>(id));
  return text;
}
}  // namespace

// final_word: the right candidate is the word that ends a sentence at the item's source, after
// exactly the text before it; distractors are other documents' sentence-final words, distinct
// ignoring case; "e.g.", "3.5" and words shorter than min_word_bytes are never asked for.
BOOST_AUTO_TEST_CASE(final_word_items_ask_for_the_sentence_final_word) {
  const std::vector<std::string> words = {"kernel", "module", "Driver", "memory", "thread", "signal", "buffer",
                                          "device", "DRIVER", "socket"};
  std::vector<std::pair<std::string, std::string>> docs;
  for (std::size_t d = 0; d < words.size(); ++d)
    docs.emplace_back("doc" + std::to_string(d),
                      "Some opening text that is long enough to be a context for the model, number " +
                          std::to_string(d) + ", e.g. this and 3.5 so. It ends with the " + words[d] +
                          "! Then more follows");
  // Only a 2-letter word, "e.g." and a number end sentences here (the first "." follows "is").
  docs.emplace_back("no_final_word", std::string(80, 'x') + " it is. e.g. 3.5 and so on");
  // A document with four sentence-final words: its item's distractors are its own words.
  const std::vector<std::string> own = {"apple", "banana", "cherry", "damson"};
  docs.emplace_back("orchard", std::string(70, 'o') + " one " + own[0] + ". two " + own[1] + ". three " + own[2] +
                                   ". four " + own[3] + ".");
  gp::final_word_options options;
  options.context = 40;
  options.choices = 4;
  options.items = 20;
  const auto items = gp::final_word_items(docs, bytes_as_tokens, options);
  BOOST_TEST(items.size() == 11u);
  std::vector<std::size_t> answers;
  for (const auto& item : items) {
    const std::string name = item.source.substr(0, item.source.find('@'));
    const auto begin = static_cast<std::size_t>(std::stoll(item.source.substr(item.source.find('@') + 1)));
    BOOST_TEST(name != "no_final_word");
    const std::string* text = nullptr;
    for (const auto& [n, t] : docs)
      if (n == name) text = &t;
    BOOST_REQUIRE(text != nullptr);
    const std::string right = spelled(item.choices[item.answer]);
    BOOST_TEST(right.front() == ' ');
    const std::string word = right.substr(1);
    BOOST_TEST(text->compare(begin, word.size(), word) == 0);
    BOOST_TEST(std::string(".!?").find((*text)[begin + word.size()]) != std::string::npos);
    // The context is the 40 bytes before the word's space.
    BOOST_TEST(item.context.size() == 40u);
    BOOST_TEST(spelled(item.context) == text->substr(begin - 1 - 40, 40));
    std::vector<std::string> lowered;
    for (std::size_t c = 0; c < item.choices.size(); ++c) {
      const std::string candidate = spelled(item.choices[c]);
      BOOST_TEST(item.choice_bytes[c] == static_cast<std::int64_t>(candidate.size()));
      std::string low = candidate;
      for (char& ch : low) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      BOOST_TEST(std::count(lowered.begin(), lowered.end(), low) == 0, "a repeated candidate: " << candidate);
      lowered.push_back(low);
      const bool listed = std::count(words.begin(), words.end(), candidate.substr(1)) == 1 ||
                          std::count(own.begin(), own.end(), candidate.substr(1)) == 1;
      BOOST_TEST((name == "orchard" ? std::count(own.begin(), own.end(), candidate.substr(1)) == 1 : listed), candidate);
    }
    answers.push_back(item.answer);
  }
  BOOST_TEST(std::count(answers.begin(), answers.end(), answers.front()) < static_cast<long>(answers.size()));
  // Too few documents for the choices: refused, naming the fix.
  options.choices = 20;
  BOOST_CHECK_EXCEPTION((void)gp::final_word_items(docs, bytes_as_tokens, options), gift::error,
                        [](const gift::error& e) { return std::string(e.what()).find("fewer choices") != std::string::npos; });
}

BOOST_AUTO_TEST_CASE(wilson_interval_matches_a_hand_value) {
  // 8 of 10 right: the Wilson 95 % interval is [0.4902, 0.9433] (z = 1.95996).
  const auto [low, high] = gp::choice_scores::wilson_interval(8, 10);
  BOOST_TEST(std::abs(low - 0.49016247) <= 1e-6);
  BOOST_TEST(std::abs(high - 0.94331785) <= 1e-6);
  // Another level takes z from the inverse error function: 99 % gives a wider interval.
  const auto [low99, high99] = gp::choice_scores::wilson_interval(8, 10, 0.99);
  BOOST_TEST(low99 < low);
  BOOST_TEST(high99 > high);
  gp::choice_scores s;
  s.correct = {true, false, true, true};
  s.correct_norm = {true, true, true, true};
  BOOST_TEST(s.accuracy() == 0.75);
  BOOST_TEST(s.accuracy_norm() == 1.0);
}

BOOST_AUTO_TEST_SUITE_END()
