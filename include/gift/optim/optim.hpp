#pragma once
/// \file gift/optim/optim.hpp
/// \brief All of gift's optimizers, schedules and gradient clipping.

#include <gift/optim/adam.hpp>
#include <gift/optim/clip.hpp>
#include <gift/optim/parameter.hpp>
#include <gift/optim/schedule.hpp>
#include <gift/optim/sgd.hpp>
