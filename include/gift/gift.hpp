#pragma once
/// \file gift.hpp
/// \brief The umbrella header: everything gift offers on the CPU (Eigen backend).
///
/// Thrust and CUDA backends are opt-in: include <gift/backend/thrust.hpp> (target gift::thrust)
/// or <gift/backend/cuda.cuh> (target gift::cuda, nvcc) as well.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/tags.hpp>
#include <gift/backend/traits.hpp>
#include <gift/column_norms.hpp>
#include <gift/concepts.hpp>
#include <gift/config.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/norm.hpp>
#include <gift/random.hpp>
#include <gift/standard_normal.hpp>
#include <gift/type_list.hpp>
#include <gift/version.hpp>
