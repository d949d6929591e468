"""Training settings shared by the tests: one name for each meaning.

They are small on purpose (a test trains for a fraction of a second); a test that needs
more says so by the name it uses, or by overriding one entry where it trains.
"""

#: A few epochs on the CPU, seeded: the network barely learns. For tests of behaviour.
THREE_EPOCHS = {"max_epochs": 3, "batch_size": 32, "random_state": 0, "device": "cpu"}
#: As :data:`THREE_EPOCHS`, one epoch: for tests that only need a fitted model.
ONE_EPOCH = {**THREE_EPOCHS, "max_epochs": 1}
#: Enough training for a small, well-separated data set to be learnt.
ACCURATE = {**THREE_EPOCHS, "max_epochs": 10, "lr": 1e-2}
#: Five epochs at a higher learning rate, on the default device and batch size.
FIVE_QUICK_EPOCHS = {"max_epochs": 5, "lr": 1e-2, "random_state": 0}
