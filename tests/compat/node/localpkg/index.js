const fs = require('fs');
module.exports = {
  greet: (who) => 'hello ' + who,
  size: (p) => fs.statSync(p).size,
};
