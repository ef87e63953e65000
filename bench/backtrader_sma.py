"""The canonical SMA cross in backtrader, for `npm run bench` to time `paperd backtest` against.

    python3 bench/backtrader_sma.py BARS.csv FAST SLOW QTY CASH COMMISSION_PCT

The CSV is `ts,open,high,low,close,volume` with ISO-8601 UTC times (`2024-01-02T00:00:00.000Z`).
Written as a backtrader user writes it: CrossOver of two SMAs, a market buy of QTY when flat on a
cross above, close on a cross below, percentage commission, orders filled at the next bar's open
(backtrader's default). Prints one JSON line: the seconds the run took (wall, import to the end),
the fills, the final cash and value. backtrader is found on the path or under BACKTRADER_PATH (a
checkout of mementum/backtrader: it needs no installation).
"""
import json
import os
import sys
import time

started = time.perf_counter()
if os.environ.get('BACKTRADER_PATH'):
    sys.path.insert(0, os.environ['BACKTRADER_PATH'])
import backtrader as bt  # noqa: E402

path, fast, slow, qty, cash, commission = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])


class SmaCross(bt.Strategy):
    def __init__(self):
        self.cross = bt.ind.CrossOver(bt.ind.SMA(period=fast), bt.ind.SMA(period=slow))
        self.fills = []

    def notify_order(self, order):
        if order.status == order.Completed:
            ts = bt.num2date(order.executed.dt).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + 'Z'
            self.fills.append({'ts': ts, 'side': 'buy' if order.isbuy() else 'sell', 'qty': abs(order.executed.size), 'price': order.executed.price})

    def next(self):
        if not self.position:
            if self.cross[0] > 0:
                self.buy(size=qty)
        elif self.cross[0] < 0:
            self.close()


cerebro = bt.Cerebro(stdstats=False)
cerebro.broker.setcash(cash)
cerebro.broker.setcommission(commission=commission)
cerebro.adddata(bt.feeds.GenericCSVData(
    dataname=path, dtformat='%Y-%m-%dT%H:%M:%S.%fZ', timeframe=bt.TimeFrame.Minutes,
    datetime=0, open=1, high=2, low=3, close=4, volume=5, openinterest=-1))
cerebro.addstrategy(SmaCross)
strategy = cerebro.run()[0]
print(json.dumps({
    'seconds': time.perf_counter() - started,
    'fills': strategy.fills,
    'cash': cerebro.broker.getcash(),
    'value': cerebro.broker.getvalue(),
}))
