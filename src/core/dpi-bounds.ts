/** The fewest bars a DPI frame may have: the momentum's short average needs 5. */
export const DPI_MIN_PERIOD = 5
