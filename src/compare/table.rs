//! The compact text table `check` / `compare` print per scenario.
