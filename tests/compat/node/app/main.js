const pkg = require('localpkg');
console.log(pkg.greet('from a package npm installed'));
console.log('its own package.json:', pkg.size(require.resolve('localpkg/package.json')) > 0);
