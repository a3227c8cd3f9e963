#pragma once
/// \file gift/backend/thrust.hpp
/// \brief Everything gift implements on the Thrust backend. Link gift::thrust (host OMP/CPP
/// systems) or gift::cuda (nvcc, CUDA system).

#include <gift/backend/thrust/column_norms.hpp>
#include <gift/backend/thrust/fill_standard_normal.hpp>
#include <gift/backend/thrust/gram.hpp>
#include <gift/backend/thrust/gemm.hpp>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/backend/thrust/model/attention.hpp>
#include <gift/backend/thrust/model/cross_entropy.hpp>
#include <gift/backend/thrust/model/gather_rows.hpp>
#include <gift/backend/thrust/model/npft_linear.hpp>
#include <gift/backend/thrust/model/rms_norm.hpp>
#include <gift/backend/thrust/model/rope.hpp>
#include <gift/backend/thrust/model/svft_linear.hpp>
#include <gift/backend/thrust/model/swiglu.hpp>
#include <gift/backend/thrust/multiply.hpp>
#include <gift/backend/thrust/nn/gift_linear.hpp>
#include <gift/backend/thrust/noise.hpp>
#include <gift/backend/thrust/optim/adam.hpp>
#include <gift/backend/thrust/optim/parameter.hpp>
#include <gift/backend/thrust/optim/sgd.hpp>
#include <gift/backend/thrust/system.hpp>
#include <gift/backend/thrust/metric.hpp>
#include <gift/backend/thrust/quant/asymmetric.hpp>
#include <gift/backend/thrust/quant/symmetric.hpp>
#include <gift/backend/thrust/select.hpp>
#include <gift/backend/thrust/stats.hpp>
