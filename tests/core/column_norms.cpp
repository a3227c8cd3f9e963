// Column norms on the Eigen backend against a brute-force double-precision reference.
#include <boost/test/unit_test.hpp>

#include <gift/column_norms.hpp>
#include <gift/type_list.hpp>

#include <cmath>
#include <tuple>

// Every case of this file belongs to the CTest test core_column_norms (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(core_column_norms)

namespace {
using norms = gift::type_list<gift::l1, gift::l2, gift::linf, gift::lp<3>>;
using boost_norms = std::tuple<gift::l1, gift::l2, gift::linf, gift::lp<3>>;

template <class Norm>
double reference(const gift::matrix<double>& m, Eigen::Index column) {
  double acc = 0;
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    const double a = std::abs(m(r, column));
    if constexpr (std::is_same_v<Norm, gift::linf>) acc = std::max(acc, a);
    else acc += std::pow(a, Norm::p);
  }
  return std::is_same_v<Norm, gift::linf> ? acc : std::pow(acc, 1.0 / Norm::p);
}

gift::matrix_f sample_matrix(Eigen::Index rows, Eigen::Index cols) {
  gift::matrix_f m(rows, cols);
  for (Eigen::Index r = 0; r < rows; ++r)
    for (Eigen::Index c = 0; c < cols; ++c) m(r, c) = static_cast<float>(std::sin(0.37 * r + 1.3 * c) * (1 + c % 5));
  return m;
}
}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(matches_double_reference, Norm, boost_norms) {
  // 700 rows: three row blocks, the last one partial.
  const gift::matrix_f m = sample_matrix(700, 37);
  const gift::matrix<double> md = m.cast<double>();
  const gift::vector_f norms_found = gift::column_norms<Norm>(m);
  BOOST_TEST(norms_found.size() == 37);
  for (Eigen::Index j = 0; j < m.cols(); ++j) {
    const double expected = reference<Norm>(md, j);
    BOOST_TEST(std::abs(norms_found(j) - expected) <= 1e-6 * expected, "column " << j);
  }
}

BOOST_AUTO_TEST_CASE(hand_computed_values) {
  gift::matrix_f m(2, 2);
  m << 3, -1,
       -4, 0;
  BOOST_TEST(gift::column_norms<gift::l1>(m)(0) == 7.0f);
  BOOST_TEST(gift::column_norms<gift::l2>(m)(0) == 5.0f);
  BOOST_TEST(gift::column_norms<gift::linf>(m)(0) == 4.0f);
  BOOST_TEST(gift::column_norms<gift::linf>(m)(1) == 1.0f);
  BOOST_TEST(std::abs(gift::column_norms<gift::lp<3>>(m)(0) - std::cbrt(91.0f)) < 1e-5f);
}

BOOST_AUTO_TEST_CASE(storage_order_does_not_change_bits) {
  const gift::matrix_f row_major = sample_matrix(600, 19);
  const Eigen::MatrixXf column_major = row_major;
  gift::for_each_type<norms>([&]<class Norm>() {
    const gift::vector_f a = gift::column_norms<Norm>(row_major);
    const gift::vector_f b = gift::column_norms<Norm>(column_major);
    BOOST_TEST((a.array() == b.array()).all(), Norm::name());
  });
}

BOOST_AUTO_TEST_CASE(norm_names_print) {
  BOOST_TEST(gift::lp<3>::name() == "l3");
  BOOST_TEST(gift::linf::name() == "linf");
}

BOOST_AUTO_TEST_SUITE_END()  // core_column_norms
